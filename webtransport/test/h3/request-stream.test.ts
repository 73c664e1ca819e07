/**
 * Request streams (RFC 9114 §4.1, §6.1): an extended CONNECT fed one byte at a
 * time, its capsules (RFC 9297 §3.2), its end, and every error with its code
 * and scope (connection, or only the stream).
 */
import { describe, expect, it } from 'vitest';
import { H3_ERROR, type H3ErrorName } from '../../src/h3/errors.ts';
import type { H3Event } from '../../src/h3/events.ts';
import { CAPSULE, concatWire, encodeFrame, encodeSettings, FRAME, greaseId } from '../../src/h3/frames.ts';
import { isWebTransportConnect, RequestStream } from '../../src/h3/request-stream.ts';
import { encodeFieldSection } from '../../src/qpack/field-section.ts';
import { encodeVarint } from '../../src/varint.ts';
import { expectH3Error } from '../support/expect-h3-error.ts';
import { connection, connectRequest, feedByteByByte, limits } from '../support/h3-fixtures.ts';

describe('request streams, sessions and capsules', () => {
  it('reads an extended CONNECT fed one byte at a time, then capsules, then FIN', () => {
    const h3 = connection();
    const headers = encodeFrame(FRAME.HEADERS, encodeFieldSection(connectRequest));
    const grease = encodeFrame(greaseId(7), Uint8Array.from([1, 2]));
    const events = feedByteByByte(h3, 0, concatWire([headers, grease]));
    expect(events).toEqual([{ type: 'headers', streamId: 0, fields: connectRequest }]);

    h3.establishSession(0);
    const close = concatWire([0x2843, 8, Uint8Array.from([0, 0, 0x0f, 0xa1]), new TextEncoder().encode('bye!')]);
    const capsuleEvents = feedByteByByte(h3, 0, encodeFrame(FRAME.DATA, close), true);
    expect(capsuleEvents).toEqual([
      { type: 'capsule', streamId: 0, capsule: { type: CAPSULE.CLOSE_WEBTRANSPORT_SESSION, value: close.subarray(3) } },
      { type: 'request-end', streamId: 0 },
    ]);
  });

  it('parses a CONNECT stream as capsules from its first DATA byte, before the session is established', () => {
    const h3 = connection();
    const capsule = concatWire([CAPSULE.DATAGRAM, 1, Uint8Array.from([7])]);
    const bytes = concatWire([encodeFrame(FRAME.HEADERS, encodeFieldSection(connectRequest)), encodeFrame(0, capsule)]);
    const events = h3.receiveStreamData(0, bytes, false);
    expect(events.at(-1)).toEqual({
      type: 'capsule',
      streamId: 0,
      capsule: { type: CAPSULE.DATAGRAM, value: Uint8Array.from([7]) },
    });
  });

  it('reports the body of an ordinary request, and ignores trailers', () => {
    const stream = new RequestStream(4, 'server', limits);
    const get = [
      { name: ':method', value: 'GET' },
      { name: ':scheme', value: 'https' },
      { name: ':authority', value: 'localhost' },
      { name: ':path', value: '/' },
    ];
    const events: H3Event[] = [];
    stream.receive(
      concatWire([
        encodeFrame(FRAME.HEADERS, encodeFieldSection(get)),
        encodeFrame(FRAME.DATA, Uint8Array.from([1, 2])),
        encodeFrame(FRAME.HEADERS, encodeFieldSection([{ name: 'x-trailer', value: '1' }])),
      ]),
      true,
      events,
    );
    expect(events).toEqual([
      { type: 'headers', streamId: 4, fields: get },
      { type: 'body', streamId: 4, chunk: Uint8Array.from([1, 2]) },
      { type: 'request-end', streamId: 4 },
    ]);
    expect(stream.established).toBe(false);
  });

  it('knows a WebTransport extended CONNECT (RFC 9220 §3) from other requests', () => {
    expect(isWebTransportConnect(connectRequest)).toBe(true);
    expect(isWebTransportConnect(connectRequest.filter((field) => field.name !== ':protocol'))).toBe(false);
    expect(isWebTransportConnect([{ name: ':method', value: 'GET' }, ...connectRequest.slice(1)])).toBe(false);
  });

  // RFC 9114 §4.1 (frame order), §7.2.8 (reserved), §4.2.2 (size); RFC 9204 §2.2.3; draft §4.2 (session id).
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
      expectH3Error(() => connection().receiveStreamData(0, bytes, false), code);
    });
  }

  it('closes with H3_ID_ERROR on PUSH_PROMISE at a client (no MAX_PUSH_ID was sent)', () => {
    const stream = new RequestStream(0, 'client', limits, true);
    const head = encodeFrame(FRAME.HEADERS, encodeFieldSection([{ name: ':status', value: '200' }]));
    const promise = encodeFrame(FRAME.PUSH_PROMISE, Uint8Array.from([0, 0, 0]));
    expectH3Error(() => stream.receive(concatWire([head, promise]), false, []), 'H3_ID_ERROR');
  });

  it('closes with H3_EXCESSIVE_LOAD on a capsule above the limit', () => {
    const h3 = connection();
    h3.receiveStreamData(0, encodeFrame(FRAME.HEADERS, encodeFieldSection(connectRequest)), false);
    h3.establishSession(0);
    expectH3Error(
      () => h3.receiveStreamData(0, encodeFrame(FRAME.DATA, concatWire([0x2843, 100_000])), false),
      'H3_EXCESSIVE_LOAD',
    );
  });

  it('resets only the stream (H3_FRAME_ERROR) when a request ends inside a frame, and ignores it afterwards', () => {
    const h3 = connection();
    const events = h3.receiveStreamData(0, Uint8Array.from([FRAME.HEADERS, 10, 0]), true);
    expect(events).toEqual([]);
    expect(h3.takeActions()).toEqual([{ type: 'reset', streamId: 0, code: H3_ERROR.H3_FRAME_ERROR }]);
    expect(h3.receiveStreamData(0, encodeFrame(FRAME.DATA, Uint8Array.from([1])), false)).toEqual([]);
    expect(h3.receiveStreamReset(0, 0)).toEqual([]);
  });
});
