/**
 * The sans-I/O HTTP/3 core: vectors, bytes fed one at a time, GREASE, and every
 * error path with its exact RFC 9114 / RFC 9204 / RFC 9297 code.
 */
import { describe, expect, it } from 'vitest';
import { H3Connection, type H3Event, type Role } from '../../src/h3/connection.ts';
import { H3_ERROR, H3Error, type H3ErrorName } from '../../src/h3/errors.ts';
import {
  CAPSULE,
  concatWire,
  encodeFrame,
  encodeSettings,
  FRAME,
  greaseId,
  SETTING,
  UNI_STREAM,
} from '../../src/h3/frames.ts';
import { parseProtocolList, parseRequestHead, parseResponseHead } from '../../src/h3/message.ts';
import { decodeSettings } from '../../src/h3/settings.ts';
import { encodeFieldSection, type FieldLine } from '../../src/qpack/field-section.ts';
import { encodeVarint, readVarint } from '../../src/varint.ts';
import { http3CodeToWebTransport, webTransportCodeToHttp3 } from '../../src/webtransport/error-codes.ts';
import { webTransportLimits } from '../../src/webtransport/limits.ts';

const limits = webTransportLimits({ maxFrameBytes: 4096, maxCapsuleBytes: 2048 });
const CLIENT_CONTROL = 2;
const SERVER_CONTROL = 3;

const connectRequest: FieldLine[] = [
  { name: ':method', value: 'CONNECT' },
  { name: ':protocol', value: 'webtransport' },
  { name: ':scheme', value: 'https' },
  { name: ':authority', value: 'localhost' },
  { name: ':path', value: '/echo' },
  { name: 'origin', value: 'https://pulse.test' },
];

function connection(role: Role = 'server'): H3Connection {
  return new H3Connection({ role, limits });
}

const controlStream = (settings = new Map([[SETTING.ENABLE_WEBTRANSPORT, 1]])) =>
  concatWire([UNI_STREAM.CONTROL, encodeSettings(settings)]);

/** Feeds `bytes` one byte per call, collecting events. */
function feedByteByByte(h3: H3Connection, streamId: number, bytes: Uint8Array, fin = false): H3Event[] {
  const events: H3Event[] = [];
  for (let i = 0; i < bytes.length; i++) {
    events.push(...h3.receiveStreamData(streamId, bytes.subarray(i, i + 1), fin && i === bytes.length - 1));
  }
  return events;
}

function expectError(run: () => unknown, code: H3ErrorName): void {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(H3Error.is(thrown), `expected ${code}, got ${String(thrown)}`).toBe(true);
  expect((thrown as H3Error).code).toBe(code);
  expect((thrown as H3Error).wireCode).toBe(H3_ERROR[code]);
}

describe('wire vectors', () => {
  it('reads the varint examples of RFC 9000 §A.1', () => {
    expect(readVarint(Uint8Array.from([0x9d, 0x7f, 0x3e, 0x7d]), 0)).toEqual({ value: 494_878_333, next: 4 });
    expect(readVarint(Uint8Array.from([0x7b, 0xbd]), 0)).toEqual({ value: 15_293, next: 2 });
    expect(readVarint(Uint8Array.from([0x25]), 0)).toEqual({ value: 37, next: 1 });
    expect(readVarint(Uint8Array.from([0x40, 0x25]), 0)).toEqual({ value: 37, next: 2 });
  });

  it('encodes frames as type, length, payload', () => {
    expect(encodeFrame(FRAME.DATA, Uint8Array.from([1, 2, 3]))).toEqual(Uint8Array.from([0, 3, 1, 2, 3]));
    expect(encodeSettings(new Map([[SETTING.H3_DATAGRAM, 1]]))).toEqual(Uint8Array.from([0x04, 0x02, 0x33, 0x01]));
    expect(encodeSettings(new Map([[SETTING.ENABLE_WEBTRANSPORT, 1]]))).toEqual(
      Uint8Array.from([0x04, 0x05, 0xab, 0x60, 0x37, 0x42, 0x01]),
    );
  });

  it('maps WebTransport stream error codes around GREASE codepoints (draft-ietf-webtrans-http3 §4.4)', () => {
    expect(webTransportCodeToHttp3(0)).toBe(0x52e4a40fa8db);
    expect(webTransportCodeToHttp3(0x1d)).toBe(0x52e4a40fa8db + 0x1d);
    expect(webTransportCodeToHttp3(0x1e)).toBe(0x52e4a40fa8db + 0x1f);
    expect(webTransportCodeToHttp3(0xffffffff)).toBe(0x52e5ac983162);
    for (const code of [0, 1, 0x1d, 0x1e, 0x1f, 1234, 0xffffffff]) {
      expect(http3CodeToWebTransport(webTransportCodeToHttp3(code))).toBe(code);
    }
    expect(http3CodeToWebTransport(0x52e4a40fa8db + 0x1e)).toBeUndefined(); // a GREASE codepoint
    expect(http3CodeToWebTransport(H3_ERROR.H3_NO_ERROR)).toBeUndefined();
  });
});

describe('control streams and SETTINGS', () => {
  it('opens its control stream with the settings Chromium needs', () => {
    const h3 = connection();
    h3.start();
    const [action] = h3.takeActions();
    expect(action).toMatchObject({ type: 'write', streamId: SERVER_CONTROL, fin: false });
    const data = (action as { data: Uint8Array }).data;
    expect(data[0]).toBe(UNI_STREAM.CONTROL);
    const payload = data.subarray(3); // type 0x00, frame type 0x04, one-byte length
    const settings = decodeSettings(payload);
    expect(settings.get(SETTING.ENABLE_WEBTRANSPORT)).toBe(1);
    expect(settings.get(SETTING.H3_DATAGRAM)).toBe(1);
    expect(settings.get(SETTING.ENABLE_CONNECT_PROTOCOL)).toBe(1);
    expect(settings.get(SETTING.QPACK_MAX_TABLE_CAPACITY)).toBe(0);
  });

  it('reads SETTINGS fed one byte at a time, ignoring GREASE settings, frames and streams', () => {
    const h3 = connection();
    const settings = new Map([
      [SETTING.ENABLE_WEBTRANSPORT, 1],
      [greaseId(3), 77],
    ]);
    const bytes = concatWire([
      UNI_STREAM.CONTROL,
      encodeSettings(settings),
      encodeFrame(greaseId(5), Uint8Array.from([9, 9, 9])),
      encodeFrame(0x2843, new Uint8Array(0)),
    ]);
    const events = feedByteByByte(h3, CLIENT_CONTROL, bytes);
    expect(events).toEqual([{ type: 'settings', settings }]);
    // A GREASE stream type is ignored: the peer is asked to stop, the connection lives on.
    expect(h3.receiveStreamData(6, encodeVarint(greaseId(2)), false)).toEqual([]);
    expect(h3.takeActions()).toEqual([{ type: 'reset', streamId: 6, code: H3_ERROR.H3_STREAM_CREATION_ERROR }]);
  });

  it('ignores GREASE frame, setting, stream and capsule types above 2^53 (8-byte varints)', () => {
    const hugeGrease = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]); // 0x1f * N + 0x21 range
    const settingsPayload = concatWire([
      hugeGrease,
      1,
      Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfd]),
      2,
      0x33,
      1,
    ]);
    const h3 = connection();
    const events = h3.receiveStreamData(
      CLIENT_CONTROL,
      concatWire([
        UNI_STREAM.CONTROL,
        encodeFrame(FRAME.SETTINGS, settingsPayload),
        hugeGrease,
        2,
        Uint8Array.from([1, 2]),
      ]),
      false,
    );
    expect(events).toEqual([{ type: 'settings', settings: new Map([[0x33, 1]]) }]);
    expect(h3.receiveStreamData(6, concatWire([hugeGrease, Uint8Array.from([1])]), false)).toEqual([]);
    h3.receiveStreamData(0, encodeFrame(FRAME.HEADERS, encodeFieldSection(connectRequest)), false);
    const capsules = h3.receiveStreamData(
      0,
      encodeFrame(FRAME.DATA, concatWire([hugeGrease, 1, Uint8Array.from([9])])),
      false,
    );
    expect(capsules).toHaveLength(1);
    expect((capsules[0] as { capsule: { type: number } }).capsule.type).toBeGreaterThan(Number.MAX_SAFE_INTEGER);
  });

  it('reports GOAWAY', () => {
    const h3 = connection('client');
    const events = h3.receiveStreamData(
      3,
      concatWire([controlStream(), encodeFrame(FRAME.GOAWAY, encodeVarint(8))]),
      false,
    );
    expect(events.at(-1)).toEqual({ type: 'goaway', id: 8 });
  });

  const controlErrors: [string, Uint8Array, H3ErrorName][] = [
    [
      'a first frame other than SETTINGS',
      concatWire([0, encodeFrame(FRAME.GOAWAY, encodeVarint(0))]),
      'H3_MISSING_SETTINGS',
    ],
    ['a second SETTINGS', concatWire([controlStream(), encodeSettings(new Map())]), 'H3_FRAME_UNEXPECTED'],
    ['DATA', concatWire([controlStream(), encodeFrame(FRAME.DATA, Uint8Array.from([1]))]), 'H3_FRAME_UNEXPECTED'],
    [
      'HEADERS',
      concatWire([controlStream(), encodeFrame(FRAME.HEADERS, Uint8Array.from([0, 0]))]),
      'H3_FRAME_UNEXPECTED',
    ],
    [
      'a reserved HTTP/2 frame',
      concatWire([controlStream(), encodeFrame(0x06, new Uint8Array(8))]),
      'H3_FRAME_UNEXPECTED',
    ],
    [
      'a malformed GOAWAY',
      concatWire([controlStream(), encodeFrame(FRAME.GOAWAY, Uint8Array.from([0x40]))]),
      'H3_FRAME_ERROR',
    ],
    [
      'a duplicate setting',
      concatWire([0, encodeFrame(FRAME.SETTINGS, Uint8Array.from([0x33, 1, 0x33, 1]))]),
      'H3_SETTINGS_ERROR',
    ],
    [
      'a reserved HTTP/2 setting',
      concatWire([0, encodeFrame(FRAME.SETTINGS, Uint8Array.from([0x02, 1]))]),
      'H3_SETTINGS_ERROR',
    ],
    ['H3_DATAGRAM = 2', concatWire([0, encodeFrame(FRAME.SETTINGS, Uint8Array.from([0x33, 2]))]), 'H3_SETTINGS_ERROR'],
    ['a truncated setting', concatWire([0, encodeFrame(FRAME.SETTINGS, Uint8Array.from([0x33]))]), 'H3_FRAME_ERROR'],
    ['an oversized frame', concatWire([0, FRAME.SETTINGS, 100_000]), 'H3_EXCESSIVE_LOAD'],
  ];
  for (const [name, bytes, code] of controlErrors) {
    it(`closes with ${code} on ${name}`, () => {
      expectError(() => connection().receiveStreamData(CLIENT_CONTROL, bytes, false), code);
    });
  }

  it('closes with H3_CLOSED_CRITICAL_STREAM when the control stream ends or is reset', () => {
    expectError(
      () => connection().receiveStreamData(CLIENT_CONTROL, controlStream(), true),
      'H3_CLOSED_CRITICAL_STREAM',
    );
    const h3 = connection();
    h3.receiveStreamData(CLIENT_CONTROL, controlStream(), false);
    expectError(() => h3.receiveStreamReset(CLIENT_CONTROL, 0), 'H3_CLOSED_CRITICAL_STREAM');
  });

  it('closes with H3_STREAM_CREATION_ERROR on a second control stream', () => {
    const h3 = connection();
    h3.receiveStreamData(CLIENT_CONTROL, controlStream(), false);
    expectError(() => h3.receiveStreamData(6, controlStream(), false), 'H3_STREAM_CREATION_ERROR');
  });

  it('refuses push streams: H3_STREAM_CREATION_ERROR at a server, H3_ID_ERROR at a client', () => {
    expectError(
      () => connection('server').receiveStreamData(2, Uint8Array.from([UNI_STREAM.PUSH, 0]), false),
      'H3_STREAM_CREATION_ERROR',
    );
    expectError(
      () => connection('client').receiveStreamData(3, Uint8Array.from([UNI_STREAM.PUSH, 0]), false),
      'H3_ID_ERROR',
    );
  });

  it('refuses MAX_PUSH_ID from a server', () => {
    const bytes = concatWire([controlStream(), encodeFrame(FRAME.MAX_PUSH_ID, encodeVarint(1))]);
    expectError(() => connection('client').receiveStreamData(3, bytes, false), 'H3_FRAME_UNEXPECTED');
  });
});

describe('QPACK encoder and decoder streams (capacity 0)', () => {
  it('accepts Set Dynamic Table Capacity 0 and Stream Cancellation', () => {
    const h3 = connection();
    expect(feedByteByByte(h3, 6, Uint8Array.from([UNI_STREAM.QPACK_ENCODER, 0x20]))).toEqual([]);
    expect(feedByteByByte(h3, 10, Uint8Array.from([UNI_STREAM.QPACK_DECODER, 0x44]))).toEqual([]);
  });

  it('closes with QPACK_ENCODER_STREAM_ERROR on an insert or a non-zero capacity', () => {
    expectError(
      () => connection().receiveStreamData(6, Uint8Array.from([2, 0xc0, 0x01]), false),
      'QPACK_ENCODER_STREAM_ERROR',
    );
    expectError(
      () => connection().receiveStreamData(6, Uint8Array.from([2, 0x3f, 0xe1, 0x1f]), false),
      'QPACK_ENCODER_STREAM_ERROR',
    );
  });

  it('closes with QPACK_DECODER_STREAM_ERROR on a section acknowledgement', () => {
    expectError(
      () => connection().receiveStreamData(6, Uint8Array.from([3, 0x80]), false),
      'QPACK_DECODER_STREAM_ERROR',
    );
  });

  it('closes with H3_CLOSED_CRITICAL_STREAM when a QPACK stream ends', () => {
    expectError(() => connection().receiveStreamData(6, Uint8Array.from([2]), true), 'H3_CLOSED_CRITICAL_STREAM');
  });
});

describe('request streams, sessions and capsules', () => {
  it('reads an extended CONNECT fed one byte at a time, then capsules, then FIN', () => {
    const h3 = connection();
    const headers = encodeFrame(FRAME.HEADERS, encodeFieldSection(connectRequest));
    const grease = encodeFrame(greaseId(7), Uint8Array.from([1, 2]));
    const events = feedByteByByte(h3, 0, concatWire([headers, grease]));
    expect(events).toEqual([{ type: 'headers', streamId: 0, fields: connectRequest }]);
    expect(parseRequestHead(connectRequest, 0)).toMatchObject({
      method: 'CONNECT',
      protocol: 'webtransport',
      path: '/echo',
    });

    h3.establishSession(0);
    const close = concatWire([0x2843, 8, Uint8Array.from([0, 0, 0x0f, 0xa1]), new TextEncoder().encode('bye!')]);
    const capsuleEvents = feedByteByByte(h3, 0, encodeFrame(FRAME.DATA, close), true);
    expect(capsuleEvents).toEqual([
      { type: 'capsule', streamId: 0, capsule: { type: CAPSULE.CLOSE_WEBTRANSPORT_SESSION, value: close.subarray(3) } },
      { type: 'request-end', streamId: 0 },
    ]);
  });

  it('routes WebTransport bidi and uni streams and datagrams to their session', () => {
    const h3 = connection();
    h3.receiveStreamData(0, encodeFrame(FRAME.HEADERS, encodeFieldSection(connectRequest)), false);
    h3.establishSession(0);
    const bidi = feedByteByByte(h3, 4, Uint8Array.from([0x40, 0x41, 0x00]));
    expect(bidi).toEqual([
      {
        type: 'webtransport-stream',
        sessionId: 0,
        streamId: 4,
        bidirectional: true,
        data: new Uint8Array(0),
        fin: false,
      },
    ]);
    expect(h3.isWebTransportStream(4)).toBe(true);
    const uni = h3.receiveStreamData(6, Uint8Array.from([0x40, 0x54, 0x00, 0x68, 0x69]), true);
    expect(uni).toEqual([
      {
        type: 'webtransport-stream',
        sessionId: 0,
        streamId: 6,
        bidirectional: false,
        data: Uint8Array.from([0x68, 0x69]),
        fin: true,
      },
    ]);
    expect(h3.receiveDatagram(Uint8Array.from([0x00, 0x68]))).toEqual([
      { type: 'datagram', sessionId: 0, payload: Uint8Array.from([0x68]) },
    ]);
    expect(h3.receiveDatagram(Uint8Array.from([0x01, 0x68]))).toEqual([]); // no session on stream 4
  });

  it('opens WebTransport streams with the draft-02 headers', () => {
    const h3 = connection('client');
    expect(h3.openWebTransportStream(0, true)).toEqual({ streamId: 0, header: Uint8Array.from([0x40, 0x41, 0x00]) });
    expect(h3.openWebTransportStream(0, false)).toEqual({ streamId: 2, header: Uint8Array.from([0x40, 0x54, 0x00]) });
    expect(h3.encodeDatagram(8, Uint8Array.from([7]))).toEqual(Uint8Array.from([2, 7]));
  });

  it('closes with H3_DATAGRAM_ERROR on a datagram without a quarter stream id', () => {
    expectError(() => connection().receiveDatagram(new Uint8Array(0)), 'H3_DATAGRAM_ERROR');
  });

  const requestErrors: [string, Uint8Array, H3ErrorName][] = [
    ['DATA before HEADERS', encodeFrame(FRAME.DATA, Uint8Array.from([1])), 'H3_FRAME_UNEXPECTED'],
    ['SETTINGS', encodeSettings(new Map()), 'H3_FRAME_UNEXPECTED'],
    ['GOAWAY', encodeFrame(FRAME.GOAWAY, encodeVarint(0)), 'H3_FRAME_UNEXPECTED'],
    ['a reserved HTTP/2 frame', encodeFrame(0x02, Uint8Array.from([0])), 'H3_FRAME_UNEXPECTED'],
    ['oversized HEADERS', concatWire([FRAME.HEADERS, 1_000_000]), 'H3_EXCESSIVE_LOAD'],
    [
      'HEADERS with a dynamic table reference',
      encodeFrame(FRAME.HEADERS, Uint8Array.from([0, 0, 0x80])),
      'QPACK_DECOMPRESSION_FAILED',
    ],
    [
      'HEADERS with a bad Huffman string',
      encodeFrame(FRAME.HEADERS, Uint8Array.from([0, 0, 0x51, 0x81, 0x00])),
      'QPACK_DECOMPRESSION_FAILED',
    ],
    ['a stream for an invalid session id', Uint8Array.from([0x40, 0x41, 0x01]), 'H3_ID_ERROR'],
  ];
  for (const [name, bytes, code] of requestErrors) {
    it(`closes with ${code} on ${name}`, () => {
      expectError(() => connection().receiveStreamData(0, bytes, false), code);
    });
  }

  it('closes with H3_EXCESSIVE_LOAD on a capsule above the limit', () => {
    const h3 = connection();
    h3.receiveStreamData(0, encodeFrame(FRAME.HEADERS, encodeFieldSection(connectRequest)), false);
    h3.establishSession(0);
    expectError(
      () => h3.receiveStreamData(0, encodeFrame(FRAME.DATA, concatWire([0x2843, 100_000])), false),
      'H3_EXCESSIVE_LOAD',
    );
  });

  it('resets only the stream (H3_FRAME_ERROR) when a request ends inside a frame', () => {
    const h3 = connection();
    const events = h3.receiveStreamData(0, Uint8Array.from([FRAME.HEADERS, 10, 0]), true);
    expect(events).toEqual([]);
    expect(h3.takeActions()).toEqual([{ type: 'reset', streamId: 0, code: H3_ERROR.H3_FRAME_ERROR }]);
  });

  it('refuses a request stream opened by a server (H3_STREAM_CREATION_ERROR)', () => {
    const bytes = encodeFrame(FRAME.HEADERS, encodeFieldSection([{ name: ':status', value: '200' }]));
    expectError(() => connection('client').receiveStreamData(1, bytes, false), 'H3_STREAM_CREATION_ERROR');
  });
});

describe('message checks (RFC 9114 §4.3, RFC 9220)', () => {
  const malformed: [string, FieldLine[]][] = [
    ['an uppercase name', [...connectRequest, { name: 'Origin', value: 'x' }]],
    ['a missing :method', connectRequest.slice(1)],
    [
      'a pseudo-header after a regular field',
      [...connectRequest.slice(0, 4), { name: 'a', value: 'b' }, connectRequest[4] as FieldLine],
    ],
    ['an extended CONNECT without :path', connectRequest.filter((f) => f.name !== ':path')],
    ['an unknown pseudo-header', [...connectRequest.slice(0, 5), { name: ':nope', value: 'x' }]],
    ['a connection-specific field', [...connectRequest, { name: 'connection', value: 'close' }]],
    [':protocol on GET', [{ name: ':method', value: 'GET' }, ...connectRequest.slice(1)]],
  ];
  for (const [name, fields] of malformed) {
    it(`treats ${name} as H3_MESSAGE_ERROR (stream scope)`, () => {
      try {
        parseRequestHead(fields, 4);
        throw new Error('expected H3_MESSAGE_ERROR');
      } catch (error) {
        expect(error).toMatchObject({ code: 'H3_MESSAGE_ERROR', scope: 'stream', streamId: 4 });
      }
    });
  }

  it('parses responses and protocol lists', () => {
    expect(
      parseResponseHead(
        [
          { name: ':status', value: '200' },
          { name: 'wt-protocol', value: '"a"' },
        ],
        0,
      ),
    ).toMatchObject({
      status: 200,
    });
    expect(() => parseResponseHead([{ name: ':status', value: 'abc' }], 0)).toThrow(H3Error);
    expect(parseProtocolList('"chat-v1", "chat-v2";q=1, token')).toEqual(['chat-v1', 'chat-v2', 'token']);
    expect(parseProtocolList(undefined)).toEqual([]);
  });
});
