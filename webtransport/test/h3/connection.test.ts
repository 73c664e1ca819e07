/**
 * The sans-I/O HTTP/3 connection: its own control stream, how peer streams are
 * classified by type (RFC 9114 §6, draft-ietf-webtrans-http3 §4), WebTransport
 * streams and datagrams routed to their session, and the connection-level
 * errors of stream creation, each with its exact code.
 */
import { describe, expect, it } from 'vitest';
import { H3_ERROR } from '../../src/h3/errors.ts';
import { concatWire, encodeFrame, FRAME, SETTING, UNI_STREAM } from '../../src/h3/frames.ts';
import { decodeSettings } from '../../src/h3/settings.ts';
import { encodeFieldSection } from '../../src/qpack/field-section.ts';
import { readVarint } from '../../src/varint.ts';
import { expectH3Error } from '../support/expect-h3-error.ts';
import {
  CLIENT_CONTROL,
  connection,
  connectRequest,
  controlStream,
  feedByteByByte,
  SERVER_CONTROL,
} from '../support/h3-fixtures.ts';

describe('this endpoint’s control stream', () => {
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

  it('sends GOAWAY on that stream once it is open (RFC 9114 §5.2)', () => {
    const h3 = connection();
    h3.goaway(4);
    expect(h3.takeActions()).toEqual([]); // no control stream yet
    h3.start();
    h3.takeActions();
    h3.goaway(4);
    expect(h3.takeActions()).toEqual([
      { type: 'write', streamId: SERVER_CONTROL, data: encodeFrame(FRAME.GOAWAY, Uint8Array.from([4])), fin: false },
    ]);
  });
});

describe('peer stream types (RFC 9114 §6.2)', () => {
  it('closes with H3_STREAM_CREATION_ERROR on a second control, encoder or decoder stream', () => {
    const h3 = connection();
    h3.receiveStreamData(CLIENT_CONTROL, controlStream(), false);
    expectH3Error(() => h3.receiveStreamData(6, controlStream(), false), 'H3_STREAM_CREATION_ERROR');
    for (const type of [UNI_STREAM.QPACK_ENCODER, UNI_STREAM.QPACK_DECODER]) {
      const second = connection();
      second.receiveStreamData(6, Uint8Array.from([type]), false);
      expectH3Error(() => second.receiveStreamData(10, Uint8Array.from([type]), false), 'H3_STREAM_CREATION_ERROR');
    }
  });

  it('refuses push streams: H3_STREAM_CREATION_ERROR at a server, H3_ID_ERROR at a client', () => {
    expectH3Error(
      () => connection('server').receiveStreamData(2, Uint8Array.from([UNI_STREAM.PUSH, 0]), false),
      'H3_STREAM_CREATION_ERROR',
    );
    expectH3Error(
      () => connection('client').receiveStreamData(3, Uint8Array.from([UNI_STREAM.PUSH, 0]), false),
      'H3_ID_ERROR',
    );
  });

  it('refuses a request stream opened by a server (H3_STREAM_CREATION_ERROR)', () => {
    const bytes = encodeFrame(FRAME.HEADERS, encodeFieldSection([{ name: ':status', value: '200' }]));
    expectH3Error(() => connection('client').receiveStreamData(1, bytes, false), 'H3_STREAM_CREATION_ERROR');
  });

  it('ignores a stream that ends before its type, and bytes on a stream it already forgot', () => {
    const h3 = connection();
    expect(h3.receiveStreamData(6, Uint8Array.from([0x40]), true)).toEqual([]);
    expect(h3.takeActions()).toEqual([]);
    expect(h3.receiveStreamData(SERVER_CONTROL, Uint8Array.from([1]), false)).toEqual([]); // ours, unknown
  });
});

describe('WebTransport streams and datagrams', () => {
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

  it('drops datagrams for a session not established yet, and reports a reset CONNECT stream', () => {
    const h3 = connection();
    h3.receiveStreamData(0, encodeFrame(FRAME.HEADERS, encodeFieldSection(connectRequest)), false);
    expect(h3.receiveDatagram(Uint8Array.from([0x00, 0x68]))).toEqual([]);
    expect(h3.receiveStreamReset(0, H3_ERROR.H3_REQUEST_CANCELLED)).toEqual([
      { type: 'request-reset', streamId: 0, code: H3_ERROR.H3_REQUEST_CANCELLED },
    ]);
    h3.forget(0);
    h3.establishSession(0);
    expect(h3.receiveDatagram(Uint8Array.from([0x00, 0x68]))).toEqual([]);
  });

  it('opens WebTransport streams with the draft-02 headers', () => {
    const h3 = connection('client');
    expect(h3.openWebTransportStream(0, true)).toEqual({ streamId: 0, header: Uint8Array.from([0x40, 0x41, 0x00]) });
    expect(h3.openWebTransportStream(0, false)).toEqual({ streamId: 2, header: Uint8Array.from([0x40, 0x54, 0x00]) });
    expect(h3.isWebTransportStream(2)).toBe(true);
    expect(h3.encodeDatagram(8, Uint8Array.from([7]))).toEqual(Uint8Array.from([2, 7]));
  });

  it('opens a request with its head, and writes capsules in DATA frames (RFC 9297 §3.2)', () => {
    const h3 = connection('client');
    const streamId = h3.openRequest(connectRequest);
    h3.sendCapsule(streamId, 0x2843, Uint8Array.from([0, 0, 0, 0]), true);
    const [head, capsule] = h3.takeActions();
    expect(head).toMatchObject({ type: 'write', streamId: 0, fin: false });
    expect(readVarint((head as { data: Uint8Array }).data, 0)?.value).toBe(FRAME.HEADERS);
    expect(capsule).toEqual({
      type: 'write',
      streamId: 0,
      data: concatWire([FRAME.DATA, 7, 0x2843, 4, Uint8Array.from([0, 0, 0, 0])]),
      fin: true,
    });
  });

  it('closes with H3_DATAGRAM_ERROR on a datagram without a quarter stream id', () => {
    expectH3Error(() => connection().receiveDatagram(new Uint8Array(0)), 'H3_DATAGRAM_ERROR');
  });
});
