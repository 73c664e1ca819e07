import { type Frame, FrameCodec } from '@pulse/proto';
import { InProcessServer } from '@pulse/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MAX_RATE_LIMITED_RESENDS, RequestTable } from '../src/connection/requests.ts';
import type { PulseClient } from '../src/index.ts';
import { memoryClient, recordingConnection } from './helpers.ts';

/**
 * The server refuses frames past a connection's rate unread and answers a burst
 * of refusals with ONE `error RATE_LIMITED` without id (PROTOCOL.md
 * `RATE_LIMITED`): the SDK pauses for `retryAfterMs`, finds what went unread
 * with a ping barrier and sends it again (clients/sdk README "Rate limits").
 */

const codec = new FrameCodec();

describe('a client over its rate (in-process server, 20 frames/s, burst 10)', () => {
  let server: InProcessServer;
  const clients: PulseClient[] = [];
  beforeAll(() => {
    // Refusals never close the connection here: the pause is what is tried.
    server = InProcessServer.start({ limits: { rate: 20, rateBurst: 10, rateRefusals: 100_000 } });
  });
  afterAll(async () => {
    for (const client of clients) await client.close();
    await server?.stop();
  });

  it('gets every one of 40 publications through, each read once, none timed out', async () => {
    const { client: reader } = await memoryClient(server);
    clients.push(reader);
    await reader.register('rate-reader');
    const channel = 'public:rate-limited';
    await reader.subscribeChannel(channel);
    const seen: string[] = [];
    reader.on('channel', (event) => seen.push(new TextDecoder().decode(event.payload)));

    const sent: Uint8Array[] = [];
    const { client: writer } = await memoryClient(server, {
      factories: recordingConnection(server, sent),
      limits: { requestTimeoutMs: 60_000 },
    });
    clients.push(writer);
    await writer.register('rate-writer');
    const before = sent.length;
    const started = Date.now();
    const offsets = await Promise.all(
      Array.from({ length: 40 }, (_, i) => writer.publish(channel, new TextEncoder().encode(`p${i}`))),
    );
    // Forty frames at 20/s take about two seconds; a timeout would have taken a minute.
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(new Set(offsets).size).toBe(40);
    const metrics = await server.metrics();
    // Refused unread, then sent again: more publish frames went out than publications were made.
    expect(metrics).toMatch(/pulse_limit_violations_total\{[^}]*limit="rate"[^}]*\} [1-9]/);
    const publishes = sent.slice(before).filter((bytes) => codec.decode(bytes).type === 'publish');
    expect(publishes.length).toBeGreaterThan(40);
    // The barrier: pings went out between the refusals and the resends.
    expect(sent.slice(before).some((bytes) => codec.decode(bytes).type === 'ping')).toBe(true);
    await vi.waitFor(() => expect(seen.length).toBe(40), { timeout: 10_000 });
    expect(new Set(seen).size).toBe(40);
  });
});

describe('RequestTable after RATE_LIMITED without id', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function table(barrier: () => Promise<void>) {
    const sent: number[] = [];
    const requests = new RequestTable({ requestTimeoutMs: 60_000, maxPendingRequests: 100 }, barrier);
    const transmit = (frame: Frame) => void sent.push('id' in frame ? (frame.id as number) : 0);
    return { requests, sent, transmit };
  }

  it('holds new requests for retryAfterMs, then resends the unanswered after the barrier, in order', async () => {
    vi.useFakeTimers();
    let pong: () => void = () => {};
    const { requests, sent, transmit } = table(() => new Promise((resolve) => (pong = resolve)));
    const first = requests.issue({ type: 'device_list', account: 'a' }, transmit);
    const second = requests.issue({ type: 'device_list', account: 'b' }, transmit);
    expect(sent).toEqual([1, 2]);
    requests.settle({ type: 'devices', id: 1, devices: [] } as never);
    requests.rateLimited(500);
    const third = requests.issue({ type: 'device_list', account: 'c' }, transmit);
    expect(sent).toEqual([1, 2]); // held
    await vi.advanceTimersByTimeAsync(500);
    expect(sent).toEqual([1, 2]); // waiting for the barrier's pong
    pong();
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toEqual([1, 2]); // the barrier's ping took the token the pause waited for
    await vi.advanceTimersByTimeAsync(625);
    expect(sent).toEqual([1, 2, 2]); // the unread one again, 1.25 × retryAfterMs later...
    await vi.advanceTimersByTimeAsync(625);
    expect(sent).toEqual([1, 2, 2, 3]); // ...then the held one
    requests.settle({ type: 'devices', id: 2, devices: [] } as never);
    requests.settle({ type: 'devices', id: 3, devices: [] } as never);
    await expect(Promise.all([first, second, third])).resolves.toHaveLength(3);
  });

  it(`fails a request refused unread more than ${MAX_RATE_LIMITED_RESENDS} times with RATE_LIMITED`, async () => {
    vi.useFakeTimers();
    const { requests, sent, transmit } = table(() => Promise.resolve());
    const request = requests.issue({ type: 'device_list', account: 'a' }, transmit);
    const outcome = request.catch((error: unknown) => error);
    for (let i = 0; i <= MAX_RATE_LIMITED_RESENDS; i++) {
      requests.rateLimited(100);
      // The pause, then the barrier, then the pace before the resend: 125 ms, doubled at each refusal.
      await vi.advanceTimersByTimeAsync(100 + 125 * 2 ** i);
    }
    expect(sent).toHaveLength(1 + MAX_RATE_LIMITED_RESENDS);
    expect(await outcome).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 100 });
  });

  it('never sends a `send` twice: unanswered retryAfterMs after the barrier, it fails with RATE_LIMITED', async () => {
    vi.useFakeTimers();
    const { requests, sent, transmit } = table(() => Promise.resolve());
    const answered = requests.issue({ type: 'send', to: 'b', envelopes: [] }, transmit);
    const unanswered = requests.issue({ type: 'send', to: 'b', envelopes: [] }, transmit);
    const outcome = unanswered.catch((error: unknown) => error);
    requests.rateLimited(200);
    await vi.advanceTimersByTimeAsync(200);
    // The first was committing: its answer comes after the barrier, in time.
    requests.settle({ type: 'sent', id: 1 } as never);
    await vi.advanceTimersByTimeAsync(200);
    expect(sent).toEqual([1, 2]);
    await expect(answered).resolves.toMatchObject({ type: 'sent' });
    expect(await outcome).toMatchObject({ code: 'RATE_LIMITED' });
  });
});
