/**
 * The peer's control stream (RFC 9114 §6.2.1, §7.2): SETTINGS fed one byte at a
 * time, GREASE skipped, GOAWAY, and every error with its exact code.
 */
import { describe, expect, it } from 'vitest';
import { PeerControlStream } from '../../src/h3/control-stream.ts';
import { H3_ERROR, type H3ErrorName } from '../../src/h3/errors.ts';
import type { H3Event } from '../../src/h3/events.ts';
import { concatWire, encodeFrame, encodeSettings, FRAME, greaseId, SETTING, UNI_STREAM } from '../../src/h3/frames.ts';
import { encodeFieldSection } from '../../src/qpack/field-section.ts';
import { encodeVarint } from '../../src/varint.ts';
import { expectH3Error } from '../support/expect-h3-error.ts';
import { CLIENT_CONTROL, connection, connectRequest, controlStream, feedByteByByte } from '../support/h3-fixtures.ts';

describe('control streams and SETTINGS', () => {
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
    expect(h3.peerSettings).toEqual(settings);
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

  it('accepts MAX_PUSH_ID from a client and CANCEL_PUSH from either side, and does nothing with them', () => {
    const server = new PeerControlStream('server', 1024);
    const client = new PeerControlStream('client', 1024);
    const events: H3Event[] = [];
    const settings = encodeSettings(new Map());
    server.receive(concatWire([settings, encodeFrame(FRAME.MAX_PUSH_ID, encodeVarint(4))]), false, events);
    server.receive(encodeFrame(FRAME.CANCEL_PUSH, encodeVarint(0)), false, events);
    client.receive(concatWire([settings, encodeFrame(FRAME.CANCEL_PUSH, encodeVarint(0))]), false, events);
    expect(events.map((event) => event.type)).toEqual(['settings', 'settings']);
    expect(server.settings).toEqual(new Map());
  });

  // RFC 9114 §6.2.1 (first frame), §7.2.4 (SETTINGS), §7.2.6 (GOAWAY), §7.2.8 (reserved), §7.1 (size).
  const controlErrors: [string, Uint8Array, H3ErrorName][] = [
    [
      'a first frame other than SETTINGS',
      concatWire([0, encodeFrame(FRAME.GOAWAY, encodeVarint(0))]),
      'H3_MISSING_SETTINGS',
    ],
    ['DATA as the first frame', concatWire([0, encodeFrame(FRAME.DATA, Uint8Array.from([1]))]), 'H3_MISSING_SETTINGS'],
    ['a second SETTINGS', concatWire([controlStream(), encodeSettings(new Map())]), 'H3_FRAME_UNEXPECTED'],
    ['DATA', concatWire([controlStream(), encodeFrame(FRAME.DATA, Uint8Array.from([1]))]), 'H3_FRAME_UNEXPECTED'],
    [
      'HEADERS',
      concatWire([controlStream(), encodeFrame(FRAME.HEADERS, Uint8Array.from([0, 0]))]),
      'H3_FRAME_UNEXPECTED',
    ],
    [
      'PUSH_PROMISE',
      concatWire([controlStream(), encodeFrame(FRAME.PUSH_PROMISE, Uint8Array.from([0, 0, 0]))]),
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
      'a GOAWAY with bytes after its id',
      concatWire([controlStream(), encodeFrame(FRAME.GOAWAY, Uint8Array.from([0, 0]))]),
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
      expectH3Error(() => connection().receiveStreamData(CLIENT_CONTROL, bytes, false), code);
    });
  }

  it('closes with H3_CLOSED_CRITICAL_STREAM when the control stream ends or is reset', () => {
    expectH3Error(
      () => connection().receiveStreamData(CLIENT_CONTROL, controlStream(), true),
      'H3_CLOSED_CRITICAL_STREAM',
    );
    const h3 = connection();
    h3.receiveStreamData(CLIENT_CONTROL, controlStream(), false);
    expectH3Error(() => h3.receiveStreamReset(CLIENT_CONTROL, 0), 'H3_CLOSED_CRITICAL_STREAM');
  });

  it('refuses MAX_PUSH_ID from a server', () => {
    const bytes = concatWire([controlStream(), encodeFrame(FRAME.MAX_PUSH_ID, encodeVarint(1))]);
    expectH3Error(() => connection('client').receiveStreamData(3, bytes, false), 'H3_FRAME_UNEXPECTED');
  });
});
