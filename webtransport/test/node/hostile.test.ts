/**
 * Hostile input against a live server: garbage datagrams, truncated handshakes,
 * malformed HTTP/3 frames and QPACK, oversized headers. Each bad connection is
 * closed with the right code, and the server keeps serving a well-behaved client.
 */

import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { H3_ERROR } from '../../src/h3/errors.ts';
import { concatWire, encodeFrame, encodeSettings, FRAME, SETTING, UNI_STREAM } from '../../src/h3/frames.ts';
import { connectWebTransport } from '../../src/node/index.ts';
import { encodeFieldSection, type FieldLine } from '../../src/qpack/field-section.ts';
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

async function wellBehavedEcho(): Promise<string> {
  const transport = connectWebTransport(echo.url(), {
    serverCertificateHashes: [{ algorithm: 'sha-256', value: echo.certificate.sha256 }],
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
