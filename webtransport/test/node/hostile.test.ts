/**
 * Hostile input against a live server: garbage datagrams, truncated handshakes,
 * malformed HTTP/3 frames and QPACK, oversized headers, and streams and
 * datagrams the application never reads. Each bad connection is closed with the
 * right code, what nobody reads is refused or kept within the receive budget,
 * and the server keeps serving a well-behaved client.
 */

import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { H3_ERROR } from '../../src/h3/errors.ts';
import { concatWire, encodeFrame, encodeSettings, FRAME, SETTING, UNI_STREAM } from '../../src/h3/frames.ts';
import { connectWebTransport, type ServerWebTransportSession } from '../../src/node/index.ts';
import { encodeFieldSection, type FieldLine } from '../../src/qpack/field-section.ts';
import { webTransportCodeToHttp3 } from '../../src/webtransport/error-codes.ts';
import { REFUSAL_CODE } from '../../src/webtransport/incoming-policy.ts';
import { QUEUED_CHUNK_OVERHEAD_BYTES, queuedCost } from '../../src/webtransport/receive-budget.ts';
import { type EchoServer, readAll, startEchoServer } from './echo-server.ts';
import { RawQuicClient } from './raw-quic-client.ts';

let echo: EchoServer;

const control = concatWire([UNI_STREAM.CONTROL, encodeSettings(new Map([[SETTING.ENABLE_WEBTRANSPORT, 1]]))]);
const request = (fields: FieldLine[]) => encodeFrame(FRAME.HEADERS, encodeFieldSection(fields));
const connectFields = (authority: string): FieldLine[] => [
  { name: ':method', value: 'CONNECT' },
  { name: ':protocol', value: 'webtransport' },
  { name: ':scheme', value: 'https' },
  { name: ':authority', value: authority },
  { name: ':path', value: '/echo' },
];

async function wellBehavedEcho(server: EchoServer = echo): Promise<string> {
  const transport = connectWebTransport(server.url(), {
    serverCertificateHashes: [{ algorithm: 'sha-256', value: server.certificate.sha256 }],
  });
  await transport.ready;
  const stream = await transport.createBidirectionalStream();
  const echoed = readAll(stream.readable);
  const writer = stream.writable.getWriter();
  await writer.write(new TextEncoder().encode('still serving'));
  await writer.close();
  const text = new TextDecoder().decode(await echoed);
  transport.close();
  return text;
}

async function closeCodeFor(streams: [number, Uint8Array][]): Promise<number> {
  const client = await RawQuicClient.connect(echo.server.port);
  try {
    for (const [streamId, bytes] of streams) client.send(streamId, bytes);
    return await client.peerCloseCode();
  } finally {
    client.close();
  }
}

beforeAll(async () => {
  echo = await startEchoServer({ limits: { idleTimeoutMs: 2000 } });
});

afterAll(async () => {
  await echo.close();
});

describe('hostile input', () => {
  it('drops garbage UDP datagrams and keeps no state for them', async () => {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const garbage = [
      Buffer.alloc(0),
      Buffer.from([0xff]),
      randomBytes(40),
      randomBytes(1200),
      // Long header, Initial type, QUIC v1, then random bytes: parses as a header but never decrypts.
      Buffer.concat([Buffer.from([0xc0, 0, 0, 0, 1, 20]), randomBytes(20), Buffer.from([8]), randomBytes(1200)]),
      Buffer.concat([Buffer.from([0x40]), randomBytes(40)]),
    ];
    for (let round = 0; round < 20; round++) {
      for (const packet of garbage) socket.send(packet, echo.server.port, '127.0.0.1');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.close();
    expect(echo.server.connectionCount).toBe(0);
    expect(await wellBehavedEcho()).toBe('still serving');
  });

  it('survives truncated handshakes', async () => {
    for (let i = 0; i < 10; i++) await RawQuicClient.connect(echo.server.port, false);
    expect(await wellBehavedEcho()).toBe('still serving');
  });

  it('closes with H3_FRAME_UNEXPECTED on DATA in the control stream', async () => {
    const code = await closeCodeFor([[2, concatWire([control, encodeFrame(FRAME.DATA, Uint8Array.from([1, 2]))])]]);
    expect(code).toBe(H3_ERROR.H3_FRAME_UNEXPECTED);
  });

  it('closes with H3_MISSING_SETTINGS when the control stream starts with another frame', async () => {
    const code = await closeCodeFor([
      [2, concatWire([UNI_STREAM.CONTROL, encodeFrame(FRAME.GOAWAY, Uint8Array.from([0]))])],
    ]);
    expect(code).toBe(H3_ERROR.H3_MISSING_SETTINGS);
  });

  it('closes with H3_SETTINGS_ERROR on a duplicate setting', async () => {
    const bad = concatWire([UNI_STREAM.CONTROL, encodeFrame(FRAME.SETTINGS, Uint8Array.from([0x33, 1, 0x33, 1]))]);
    expect(await closeCodeFor([[2, bad]])).toBe(H3_ERROR.H3_SETTINGS_ERROR);
  });

  it('closes with QPACK_DECOMPRESSION_FAILED on a field section that uses the dynamic table', async () => {
    const code = await closeCodeFor([
      [2, control],
      [0, encodeFrame(FRAME.HEADERS, Uint8Array.from([0x01, 0x00, 0x80]))],
    ]);
    expect(code).toBe(H3_ERROR.QPACK_DECOMPRESSION_FAILED);
  });

  it('closes with H3_EXCESSIVE_LOAD on an oversized HEADERS frame and on an oversized field section', async () => {
    const huge = concatWire([FRAME.HEADERS, 10 * 1024 * 1024, new Uint8Array(1000)]);
    expect(
      await closeCodeFor([
        [2, control],
        [0, huge],
      ]),
    ).toBe(H3_ERROR.H3_EXCESSIVE_LOAD);
    const bigFields = request([...connectFields('localhost'), { name: 'x-big', value: 'v'.repeat(40 * 1024) }]);
    expect(
      await closeCodeFor([
        [2, control],
        [0, bigFields],
      ]),
    ).toBe(H3_ERROR.H3_EXCESSIVE_LOAD);
  });

  it('closes with H3_FRAME_UNEXPECTED on DATA before HEADERS in a request', async () => {
    const code = await closeCodeFor([
      [2, control],
      [0, encodeFrame(FRAME.DATA, Uint8Array.from([1]))],
    ]);
    expect(code).toBe(H3_ERROR.H3_FRAME_UNEXPECTED);
  });

  it('resets a malformed request with H3_MESSAGE_ERROR and answers other requests properly', async () => {
    const client = await RawQuicClient.connect(echo.server.port);
    try {
      client.send(2, control);
      client.send(0, request([...connectFields('localhost'), { name: 'Upper-Case', value: 'x' }]));
      expect(await client.streamResetCode(0)).toBe(H3_ERROR.H3_MESSAGE_ERROR);
      // A plain GET on the same connection gets a real response.
      client.send(
        4,
        request([
          { name: ':method', value: 'GET' },
          { name: ':scheme', value: 'https' },
          { name: ':authority', value: 'localhost' },
          { name: ':path', value: '/' },
        ]),
        true,
      );
      const buffer = new Uint8Array(256);
      let received = 0;
      await client.until(() => {
        const result = client.quic.streamReadable(4) ? client.quic.streamRecv(4, buffer) : null;
        if (result) received += result[0];
        return received > 0;
      });
      expect(buffer[0]).toBe(FRAME.HEADERS);
      expect(client.quic.isClosed()).toBe(false);
    } finally {
      client.close();
    }
  });

  it('closes with H3_EXCESSIVE_LOAD on an oversized capsule in a session', async () => {
    const capsule = encodeFrame(FRAME.DATA, concatWire([0x2843, 5 * 1024 * 1024, new Uint8Array(100)]));
    const code = await closeCodeFor([
      [2, control],
      [0, concatWire([request(connectFields('localhost')), capsule])],
    ]);
    expect(code).toBe(H3_ERROR.H3_EXCESSIVE_LOAD);
  });

  it('buffers a bounded number of streams for a session that never comes, and refuses the rest', async () => {
    const client = await RawQuicClient.connect(echo.server.port);
    try {
      client.send(2, control);
      // 40 uni streams (ids 6, 10, ...) for session 8, which is never opened; the limit is 32.
      const streams = Array.from({ length: 40 }, (_, i) => 6 + 4 * i);
      for (const streamId of streams) client.send(streamId, Uint8Array.from([0x40, 0x54, 0x08, 1, 2, 3]));
      const refused = new Set<number>();
      await client.until(() => {
        for (const streamId of streams) {
          try {
            client.quic.streamSend(streamId, Uint8Array.from([4]), false);
          } catch (error) {
            if ((error as Error).message.includes(`StreamStopped(${H3_ERROR.WT_BUFFERED_STREAM_REJECTED})`)) {
              refused.add(streamId);
            }
          }
        }
        return refused.size >= 8;
      });
      expect(refused.size).toBe(8);
      expect(client.quic.isClosed()).toBe(false);
    } finally {
      client.close();
    }
  });

  it('keeps serving well-behaved clients after all of the above, with bounded state', async () => {
    expect(await wellBehavedEcho()).toBe('still serving');
    // Idle hostile connections expire with the (short) idle timeout configured above; the test
    // times out if they never do.
    while (echo.server.connectionCount > 1) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(echo.server.connectionCount).toBeLessThanOrEqual(1);
  });
});

/** A raw QUIC client with WebTransport session 0 established on `port` (control stream, CONNECT, 200). */
async function rawSession(port: number): Promise<RawQuicClient> {
  const client = await RawQuicClient.connect(port);
  const settings = new Map([
    [SETTING.ENABLE_WEBTRANSPORT, 1],
    [SETTING.H3_DATAGRAM, 1],
  ]);
  client.send(2, concatWire([UNI_STREAM.CONTROL, encodeSettings(settings)]));
  client.send(0, request(connectFields('localhost')));
  const head = new Uint8Array(256);
  await client.until(() => client.quic.streamReadable(0) && client.quic.streamRecv(0, head) !== null);
  expect(head[0]).toBe(FRAME.HEADERS);
  return client;
}

const uniStream = (payload: Uint8Array) => concatWire([UNI_STREAM.WEBTRANSPORT, 0, payload]);
const bidiStream = (payload: Uint8Array) => concatWire([FRAME.WEBTRANSPORT_STREAM, 0, payload]);

/**
 * Sends datagrams of `size` bytes for session 0, ten at a time, until the
 * server has counted `count` (`counted`): datagrams may be lost, so each ten
 * waits until the server counted at least one of them.
 */
async function sendDatagrams(client: RawQuicClient, count: number, size: number, counted: () => number): Promise<void> {
  while (counted() < count) {
    const before = counted();
    for (let i = 0; i < 10; i++) client.quic.dgramSend(concatWire([0, new Uint8Array(size).fill(i)]));
    client.flush();
    await client.until(() => counted() > before);
  }
}

describe('what the application does not read (issue 11)', () => {
  it('refuses streams and datagrams the application does not accept, and holds none of their bytes', async () => {
    // The application reads one bidirectional stream per session, nothing else (what Pulse declares).
    const server = await startEchoServer({
      incoming: { bidirectionalStreams: 1, unidirectionalStreams: 0, datagrams: false },
    });
    const client = await rawSession(server.server.port);
    const stats = () => server.server.receiveStats;
    try {
      client.send(4, bidiStream(new TextEncoder().encode('hello')));
      client.send(8, bidiStream(new Uint8Array(100 * 1024)));
      const uni = Array.from({ length: 64 }, (_, i) => 6 + 4 * i);
      for (const streamId of uni) client.send(streamId, uniStream(new Uint8Array(64 * 1024).fill(1)), true);
      // The second bidirectional stream is reset (and stopped) at once with STREAM_REFUSED (draft §4.3-4.4).
      expect(await client.streamResetCode(8)).toBe(webTransportCodeToHttp3(REFUSAL_CODE.STREAM_REFUSED));
      await client.until(() => stats().streamsRefused === 65);
      await sendDatagrams(client, 200, 1000, () => stats().datagramsDropped);
      // The accepted stream is served: its bytes come back.
      const echoed = new Uint8Array(64);
      let length = 0;
      await client.until(() => {
        const result = client.quic.streamReadable(4) ? client.quic.streamRecv(4, echoed.subarray(length)) : null;
        if (result) length += result[0];
        return length >= 5;
      });
      expect(new TextDecoder().decode(echoed.subarray(0, length))).toBe('hello');
      expect(stats()).toMatchObject({ streamsRefused: 65, streamsOverBudget: 0 });
      expect(stats().datagramsDropped).toBeGreaterThanOrEqual(200);
      // Only the accepted stream's 5 bytes ever waited for the application; the refused ones' were dropped.
      expect(stats().peakBufferedBytes).toBeLessThanOrEqual(queuedCost(5));
      expect(stats().bytesDropped).toBeGreaterThanOrEqual(200 * 1000);
      // Bytes still arriving on refused streams do not upset the connection.
      expect(client.quic.isClosed()).toBe(false);
      expect(await wellBehavedEcho(server)).toBe('still serving');
    } finally {
      client.close();
      await server.close();
    }
  });

  it('holds no more than the session budget for an application that accepts everything and reads nothing', async () => {
    const budget = 256 * 1024;
    const sessions: ServerWebTransportSession[] = [];
    const server = await startEchoServer({
      limits: {
        streamReadBufferBytes: 64 * 1024,
        sessionReceiveBudgetBytes: budget,
        connectionReceiveBudgetBytes: 2 * budget,
      },
      onSession: (session) => sessions.push(session),
    });
    const client = await rawSession(server.server.port);
    try {
      const session = sessions[0] as ServerWebTransportSession;
      const stats = () => session.receiveStats;
      // 16 streams, taken by the application (it holds them, it never reads them)...
      const streams = Array.from({ length: 16 }, (_, i) => 6 + 4 * i);
      for (const streamId of streams) client.send(streamId, uniStream(Uint8Array.of(0xff)));
      const incoming = session.incomingUnidirectionalStreams.getReader();
      const taken: ReadableStream<Uint8Array>[] = [];
      for (const _ of streams) taken.push((await incoming.read()).value as ReadableStream<Uint8Array>);
      // ...then 128 KiB on each: 2 MiB, eight times the budget, all within QUIC's flow-control windows.
      for (const [i, streamId] of streams.entries()) client.send(streamId, new Uint8Array(128 * 1024).fill(i), true);
      // Read-ahead fills the budget, then stops: the rest waits in QUIC.
      await client.until(() => stats().bufferedBytes >= budget - QUEUED_CHUNK_OVERHEAD_BYTES);
      // A new stream's first bytes no longer fit: it is stopped; datagrams find no room either.
      client.send(70, uniStream(new Uint8Array(1000)), true);
      await client.until(() => stats().streamsOverBudget === 1);
      await sendDatagrams(client, 50, 1000, () => stats().datagramsDropped);
      expect(stats()).toMatchObject({ streamsRefused: 0, streamsOverBudget: 1 });
      expect(stats().datagramsDropped).toBeGreaterThanOrEqual(50);
      expect(stats().peakBufferedBytes).toBeLessThanOrEqual(budget);
      // The server-wide sum saw the same: one connection, one session.
      expect(server.server.receiveStats).toMatchObject({
        streamsOverBudget: 1,
        datagramsDropped: stats().datagramsDropped,
      });
      expect(server.server.receiveStats.peakBufferedBytes).toBeLessThanOrEqual(budget);
      // Nothing accepted is lost: a reader gets every byte of a stream, the part that waited in QUIC included.
      const expected = new Uint8Array(1 + 128 * 1024).fill(3);
      expected[0] = 0xff;
      expect(Buffer.from(await readAll(taken[3] as ReadableStream<Uint8Array>)).equals(expected)).toBe(true);
      expect(stats().peakBufferedBytes).toBeLessThanOrEqual(budget);
      expect(client.quic.isClosed()).toBe(false);
    } finally {
      client.close();
      await server.close();
    }
  });
});
