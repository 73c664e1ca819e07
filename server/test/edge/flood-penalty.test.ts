/**
 * The penalty after a flood (README "Limits", `rate_penalty`,
 * `rate_penalty_addresses`; issue 11), on real sockets: a connection closed
 * `RATE_LIMITED` for flooding keeps its address out for `rate_penalty`, other
 * addresses are not held back, and the penalty table never holds more than
 * `rate_penalty_addresses` addresses. 127.0.0.0/8 is loopback on Linux, so each
 * test address is a client of its own.
 */
import { type Frame, FrameCodec, PROTOCOL_VERSIONS, protoLimits } from '@pulse/proto';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { FloodPenalties } from '../../src/edge/transport/flood-penalties.ts';
import { type EdgeServer, startEdgeServer } from './edge-server.ts';

const codec = new FrameCodec(protoLimits({}));
const hello: Frame = { type: 'hello', versions: [...PROTOCOL_VERSIONS], client: 'flood-test' };
/** Two frames a second, four in a burst, five refusals in ten seconds close the connection. */
const TINY = { rate: 2, rateBurst: 4, rateRefusals: 5, rateRefusalsWindow: 10_000 };

let edge: EdgeServer | undefined;
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  await edge?.stop();
  edge = undefined;
});

/** Connects from `localAddress`, sends hello and then `pings` pings at once; resolves every frame received until the server's `close` (or the socket's end). */
function session(port: number, localAddress: string, pings: number): Promise<{ frames: Frame[] }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/pulse/ws`, { localAddress });
  sockets.push(ws);
  const frames: Frame[] = [];
  return new Promise((resolve, reject) => {
    ws.on('error', reject);
    ws.on('message', (data: Buffer) => {
      const frame = codec.decode(new Uint8Array(data));
      frames.push(frame);
      // A connection let in and not flooding: done once it is welcomed.
      if (frame.type === 'welcome' && pings === 0) ws.close();
      // Closed by the server: done (a flooder's socket is no longer read, so its closing handshake would wait).
      if (frame.type === 'close') {
        ws.terminate();
        resolve({ frames });
      }
    });
    ws.on('close', () => resolve({ frames }));
    ws.on('open', () => {
      ws.send(codec.encode(hello));
      for (let nonce = 0; nonce < pings; nonce++) ws.send(codec.encode({ type: 'ping', nonce }));
    });
  });
}

const closeCode = (frames: Frame[]) => frames.find((f) => f.type === 'close')?.code;
const gauge = (text: string, name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1]);
const violations = (text: string, limit: string) =>
  Number(new RegExp(`pulse_limit_violations_total\\{[^}]*limit="${limit}"[^}]*\\} (\\d+)`).exec(text)?.[1] ?? 0);

describe('the penalty after a flood', () => {
  it('refuses the flooding address for rate_penalty, with retryAfterMs, and lets other addresses in', async () => {
    edge = await startEdgeServer({ limits: { ...TINY, ratePenalty: 60_000 } });
    const port = edge.httpPort;
    const flood = await session(port, '127.0.0.2', 50);
    expect(closeCode(flood.frames)).toBe('RATE_LIMITED');

    // Back at once: refused before any session, told how long the penalty lasts.
    const again = await session(port, '127.0.0.2', 0);
    expect(again.frames.map((f) => f.type)).toEqual(['error', 'close']);
    const [error] = again.frames;
    expect(error).toMatchObject({ type: 'error', code: 'RATE_LIMITED' });
    expect(error?.type === 'error' && error.id).toBeUndefined();
    const retryAfterMs = error?.type === 'error' ? (error.retryAfterMs ?? 0) : 0;
    expect(retryAfterMs).toBeGreaterThan(50_000);
    expect(retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(closeCode(again.frames)).toBe('RATE_LIMITED');

    // Another address is not held back.
    const other = await session(port, '127.0.0.3', 0);
    expect(other.frames[0]?.type).toBe('welcome');

    const text = await edge.metrics();
    expect(violations(text, 'rate_penalty')).toBe(1);
    expect(gauge(text, 'pulse_rate_penalty_addresses')).toBe(1);
  });

  it('ends after rate_penalty', async () => {
    edge = await startEdgeServer({ limits: { ...TINY, ratePenalty: 2_000 } });
    const port = edge.httpPort;
    expect(closeCode((await session(port, '127.0.0.4', 50)).frames)).toBe('RATE_LIMITED');
    expect((await session(port, '127.0.0.4', 0)).frames[0]?.type).toBe('error');
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expect((await session(port, '127.0.0.4', 0)).frames[0]?.type).toBe('welcome');
  });

  it('holds at most rate_penalty_addresses addresses: floods from more forget the oldest penalty', async () => {
    edge = await startEdgeServer({ limits: { ...TINY, ratePenalty: 60_000, ratePenaltyAddresses: 2 } });
    const port = edge.httpPort;
    for (const address of ['127.0.0.5', '127.0.0.6', '127.0.0.7'])
      expect(closeCode((await session(port, address, 50)).frames)).toBe('RATE_LIMITED');
    const text = await edge.metrics();
    expect(gauge(text, 'pulse_rate_penalty_addresses')).toBe(2);
    expect(gauge(text, 'pulse_rate_penalties_evicted_total')).toBe(1);
    // The oldest penalty was forgotten; the two newest hold.
    expect((await session(port, '127.0.0.5', 0)).frames[0]?.type).toBe('welcome');
    expect((await session(port, '127.0.0.7', 0)).frames[0]?.type).toBe('error');
  });
});

describe('FloodPenalties (the table)', () => {
  it('counts down, forgets expired penalties and never holds more than its bound', () => {
    const table = new FloodPenalties(1_000, 3);
    table.penalise('a', 0);
    expect(table.remaining('a', 400)).toBe(600);
    expect(table.remaining('b', 400)).toBe(0);
    expect(table.remaining('a', 1_000)).toBe(0);
    expect(table.size).toBe(0);
    for (let i = 0; i < 100; i++) table.penalise(`x${i}`, 2_000 + i);
    expect(table.size).toBe(3);
    expect(table.evicted).toBe(97);
    expect(table.remaining('x99', 2_100)).toBe(999);
    expect(table.remaining('x0', 2_100)).toBe(0);
    // A penalty over is swept by the next one, bound or not.
    table.penalise('late', 10_000);
    expect(table.size).toBe(1);
  });
});
