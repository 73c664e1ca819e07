/**
 * The edge's bounds on what an unauthenticated outsider can make the server
 * hold (issue 11), on real sockets: connections that have not authenticated,
 * per address (behind trusted proxies, IPv6 by /64) and in total; bytes held in
 * frames received in part, over every connection; /metrics off the client port.
 */
import { connect, type Socket } from 'node:net';
import { FrameCodec, PROTOCOL_VERSIONS, protoLimits } from '@pulse/proto';
import { dialWebSocket, dialWebTransport } from '@pulse/testing';
import { register } from '@pulse/testing/protocol';
import { connectWebTransport } from '@pulse/webtransport/node';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type EdgeServer, startEdgeServer } from './edge-server.ts';

let edge: EdgeServer | undefined;
const sockets: { close(): void }[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close();
  await edge?.stop();
  edge = undefined;
});

/** Opens a WebSocket with `headers`; resolves `welcome` once it answers hello, or its close code if it is refused. */
async function dial(port: number, headers: Record<string, string> = {}): Promise<'welcome' | number> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/pulse/ws`, { headers });
  sockets.push(ws);
  return new Promise((resolve, reject) => {
    ws.on('error', reject);
    ws.on('close', (code) => resolve(code));
    ws.on('message', (data: Buffer) => {
      // `welcome` answers hello; a refused connection gets `close` instead.
      if (codec.decode(new Uint8Array(data)).type === 'welcome') resolve('welcome');
    });
    ws.on('open', () =>
      ws.send(codec.encode({ type: 'hello', versions: [...PROTOCOL_VERSIONS], client: 'edge-test' })),
    );
  });
}

const codec = new FrameCodec(protoLimits({}));
const SERVER_BUSY = 1013;
const violations = (text: string, limit: string) =>
  Number(new RegExp(`pulse_limit_violations_total\\{[^}]*limit="${limit}"[^}]*\\} (\\d+)`).exec(text)?.[1] ?? 0);

describe('connections that have not authenticated', () => {
  it('are capped per address; X-Forwarded-For is believed from trusted proxies only; IPv6 counts by /64', async () => {
    edge = await startEdgeServer({ server: { trustedProxies: ['127.0.0.1'], maxUnauthenticatedPerIp: 2 } });
    const port = edge.httpPort;
    const from = (address: string) => ({ 'x-forwarded-for': address });
    expect(await dial(port, from('203.0.113.5'))).toBe('welcome');
    expect(await dial(port, from('203.0.113.5'))).toBe('welcome');
    expect(await dial(port, from('203.0.113.5'))).toBe(SERVER_BUSY);
    // Another client behind the same proxy is not held back.
    expect(await dial(port, from('203.0.113.6'))).toBe('welcome');
    // A client's own X-Forwarded-For entry does not make it someone else: the proxy's rightmost entry counts.
    expect(await dial(port, from('198.51.100.1, 203.0.113.5'))).toBe(SERVER_BUSY);
    // IPv6: one /64 is one address.
    expect(await dial(port, from('2001:db8:1:2::1'))).toBe('welcome');
    expect(await dial(port, from('2001:db8:1:2:ffff::2'))).toBe('welcome');
    expect(await dial(port, from('2001:db8:1:2:abcd::3'))).toBe(SERVER_BUSY);
    expect(await dial(port, from('2001:db8:1:3::1'))).toBe('welcome');
    const text = await edge.metrics();
    expect(violations(text, 'max_unauthenticated_per_ip')).toBe(3);
    expect(text).toMatch(/pulse_connections_unauthenticated 6/);
  });

  it('a refused connection that then sends a frame announcing 2^62 bytes does not end the server', async () => {
    edge = await startEdgeServer({ server: { maxUnauthenticatedPerIp: 1 } });
    const port = edge.httpPort;
    expect(await dial(port)).toBe('welcome');
    const raw = connect(port, '127.0.0.1');
    sockets.push({ close: () => raw.destroy() });
    await new Promise<void>((resolve) => raw.once('connect', () => resolve()));
    raw.write(
      'GET /pulse/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    await new Promise<void>((resolve) => raw.once('data', () => resolve()));
    // FIN + binary, masked, 64-bit length 2^62, then a masking key (RFC 6455 §5.2).
    raw.write(Buffer.from([0x82, 0xff, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]));
    await new Promise<void>((resolve) => raw.once('close', () => resolve()));
    // Still serving: it answers (this address is still at its cap), and /healthz says so.
    expect(await dial(port, {})).toBe(SERVER_BUSY);
    expect((await fetch(`http://127.0.0.1:${edge.metricsPort}/healthz`)).status).toBe(200);
  });

  it('ignores X-Forwarded-For when no proxy is trusted', async () => {
    edge = await startEdgeServer({ server: { maxUnauthenticatedPerIp: 2 } });
    const port = edge.httpPort;
    expect(await dial(port, { 'x-forwarded-for': '203.0.113.1' })).toBe('welcome');
    expect(await dial(port, { 'x-forwarded-for': '203.0.113.2' })).toBe('welcome');
    expect(await dial(port, { 'x-forwarded-for': '203.0.113.3' })).toBe(SERVER_BUSY);
  });

  it('are capped in total; a connection that authenticates no longer counts', async () => {
    edge = await startEdgeServer({ server: { maxUnauthenticated: 2 } });
    const port = edge.httpPort;
    const device = await register(dialWebSocket(`ws://127.0.0.1:${port}/pulse/ws`));
    sockets.push(device.client);
    expect(await dial(port)).toBe('welcome');
    expect(await dial(port)).toBe('welcome');
    expect(await dial(port)).toBe(SERVER_BUSY);
    const text = await edge.metrics();
    expect(violations(text, 'max_unauthenticated')).toBe(1);
    expect(text).toMatch(/pulse_connections_unauthenticated 2/);
    // The authenticated one is still served.
    expect(await device.client.exchange({ type: 'ping', nonce: 1 }, 'pong')).toMatchObject({ nonce: 1 });
  });
});

/** A raw WebSocket client: the upgrade by hand, then whatever bytes the test writes. */
async function rawWebSocket(port: number): Promise<{ socket: Socket; received: Buffer[]; closed: Promise<void> }> {
  const socket = connect(port, '127.0.0.1');
  sockets.push({ close: () => socket.destroy() });
  const received: Buffer[] = [];
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('data', (chunk) => received.push(chunk));
  socket.on('error', () => {});
  socket.write(
    'GET /pulse/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  await new Promise<void>((resolve) => {
    const check = () => (Buffer.concat(received).includes('\r\n\r\n') ? resolve() : socket.once('data', check));
    check();
  });
  return { socket, received, closed };
}

/** The header of a masked binary frame announcing `length` bytes (RFC 6455 §5.2), mask key 0. */
function frameHeader(length: number): Buffer {
  const header = Buffer.alloc(14);
  header[0] = 0x82;
  header[1] = 0x80 | 127;
  header.writeBigUInt64BE(BigInt(length), 2);
  return header; // the last 4 bytes: a zero mask key, so the payload goes as it is
}

const gauge = async (server: EdgeServer) =>
  Number(/pulse_partial_frame_bytes (\d+)/.exec(await server.metrics())?.[1] ?? Number.NaN);

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`never happened: ${what}`);
}

describe('frames received in part', () => {
  const KIB = 1024;

  it('are bounded in total over WebSocket connections: the one past the budget is closed', async () => {
    edge = await startEdgeServer({ server: { partialFrameBytes: 1024 * KIB } });
    const server = edge;
    const slow = [await rawWebSocket(server.httpPort), await rawWebSocket(server.httpPort)];
    for (const [i, client] of slow.entries()) {
      client.socket.write(Buffer.concat([frameHeader(900 * KIB), Buffer.alloc(400 * KIB, 1)]));
      await until(async () => (await gauge(server)) >= (i + 1) * 400 * KIB, `${i + 1} partial frames held`);
    }
    const third = await rawWebSocket(server.httpPort);
    third.socket.write(Buffer.concat([frameHeader(900 * KIB), Buffer.alloc(400 * KIB, 1)]));
    await until(async () => violations(await server.metrics(), 'partial_frame_bytes') === 1, 'a refusal');
    // The third got `close SERVER_BUSY` (WebSocket close code 1013); the others still hold theirs.
    await until(async () => Buffer.concat(third.received).includes(Buffer.from([0x03, 0xf5])), 'close 1013');
    expect(await gauge(server)).toBeLessThanOrEqual(1024 * KIB);
    expect(slow.every((client) => !client.socket.destroyed)).toBe(true);
  });

  it('are bounded in total over WebTransport sessions too', async () => {
    edge = await startEdgeServer({ server: { partialFrameBytes: 1024 * KIB } }, { webtransport: true });
    const server = edge;
    const open = async () => {
      const transport = connectWebTransport(`https://127.0.0.1:${server.webtransportPort}/pulse/wt`, {
        serverCertificateHashes: [{ algorithm: 'sha-256', value: server.certificateSha256 as Uint8Array }],
      });
      sockets.push({ close: () => transport.close() });
      await transport.ready;
      const stream = await transport.createBidirectionalStream();
      const writer = stream.writable.getWriter();
      // A 4-byte QUIC varint announcing 900 KiB, then 400 KiB of it.
      const prefix = Buffer.alloc(4);
      prefix.writeUInt32BE(0x8000_0000 + 900 * KIB);
      void writer.write(new Uint8Array(Buffer.concat([prefix, Buffer.alloc(400 * KIB, 1)]))).catch(() => {});
      return stream;
    };
    await open();
    await until(async () => (await gauge(server)) >= 400 * KIB, 'one partial frame held');
    await open();
    await until(async () => (await gauge(server)) >= 800 * KIB, 'two partial frames held');
    await open();
    await until(async () => violations(await server.metrics(), 'partial_frame_bytes') === 1, 'a refusal');
    expect(await gauge(server)).toBeLessThanOrEqual(1024 * KIB);
  });
});

describe('QUIC handshakes', () => {
  it('are bounded from the server config: under load clients pass a stateless Retry and still connect', async () => {
    edge = await startEdgeServer({ quic: { retryAbove: 0, maxHandshakesPerSource: 2 } }, { webtransport: true });
    const url = `https://127.0.0.1:${edge.webtransportPort}/pulse/wt`;
    const device = await register(dialWebTransport(url, edge.certificateSha256 as Uint8Array));
    sockets.push(device.client);
    expect(await device.client.exchange({ type: 'ping', nonce: 7 }, 'pong')).toMatchObject({ nonce: 7 });
    const text = await edge.metrics();
    expect(Number(/pulse_quic_retries_sent_total (\d+)/.exec(text)?.[1])).toBeGreaterThanOrEqual(1);
    expect(text).toContain('pulse_quic_handshakes_in_progress 0');
    expect(text).toContain('pulse_quic_initials_dropped_total{reason="max_handshakes_per_source"} 0');
  });
});

describe('the metrics listener', () => {
  it('asks for the bearer token when one is configured; /healthz stays open', async () => {
    edge = await startEdgeServer({ metrics: { token: 'secret-token-1' } });
    const url = `http://127.0.0.1:${edge.metricsPort}`;
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    expect((await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer wrong-token-1' } })).status).toBe(401);
    expect(await edge.metrics({ authorization: 'Bearer secret-token-1' })).toContain('# TYPE pulse_connections_total');
    expect(await (await fetch(`${url}/healthz`)).text()).toBe('ok\n');
    expect((await fetch(`http://127.0.0.1:${edge.httpPort}/metrics`)).status).toBe(404);
  });
});
