import { type Frame, FrameCodec } from '@pulse/proto';
import { TEST_CODEC as codec } from '@pulse/testing/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Connection, ConnectionHandler } from '../../src/core/connection.ts';
import type { ServerLimits } from '../../src/core/limits/limits.ts';
import { RateRefusals } from '../../src/core/session/rate-refusals.ts';
import { startCore } from '../helpers/core-harness.ts';
import { settle } from '../helpers/fake-ports.ts';

/**
 * A flooding connection (README "Limits", `rate`, `rate_burst`, `rate_refusals`):
 * refused frames are never decoded, at most one `error RATE_LIMITED` answers each
 * refusal burst, and a connection that keeps being refused is closed even while
 * the bucket lets a frame through now and then.
 */

/** A connection that keeps the server's frames as bytes, so the test decodes nothing the core would count. */
function rawPeer(limits: Partial<ServerLimits>) {
  const core = startCore({ limits });
  const received: Uint8Array[] = [];
  let closedWith: string | undefined;
  const connection: Connection = {
    transport: 'memory',
    remoteAddress: '127.0.0.9',
    bufferedAmount: 0,
    send: (bytes) => received.push(bytes),
    close: (code) => {
      closedWith = code;
    },
  };
  const handler = core.core.accept(connection) as ConnectionHandler;
  const frames = (): Frame[] => received.map((bytes) => codec.decode(bytes));
  return {
    ...core,
    send: (frame: Frame) => handler.onFrame(codec.encode(frame)),
    sendBytes: (bytes: Uint8Array) => handler.onFrame(bytes),
    frames,
    errors: () => frames().filter((f) => f.type === 'error'),
    pongs: () => frames().filter((f) => f.type === 'pong').length,
    closedWith: () => closedWith,
  };
}

const LIMITS = { rate: 1, rateBurst: 2, rateRefusals: 10, rateRefusalsWindow: 10_000 };

afterEach(() => {
  vi.restoreAllMocks();
});

describe('rate-limit refusals', () => {
  it('answers one RATE_LIMITED (no id, retryAfterMs) per refusal burst, drops and counts the rest, decodes none', async () => {
    const peer = rawPeer(LIMITS);
    peer.send({ type: 'hello', versions: [2], client: 'flood-test' }); // takes one of the two tokens
    await settle();
    const decode = vi.spyOn(FrameCodec.prototype, 'decode');
    for (let i = 0; i < 6; i++) peer.send({ type: 'sync', id: 100 + i });
    await settle();
    // One frame fitted the bucket and was decoded; the five refused were not.
    expect(decode).toHaveBeenCalledTimes(1);
    // The accepted sync is answered AUTH_REQUIRED (with its id); the five refused get one answer between them.
    const errors = peer.errors().filter((f) => f.type === 'error' && f.code === 'RATE_LIMITED');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ type: 'error', code: 'RATE_LIMITED' });
    expect(errors[0]).not.toHaveProperty('id');
    expect((errors[0] as { retryAfterMs?: number }).retryAfterMs).toBeGreaterThan(0);
    expect(peer.metrics.count('limit:memory:rate')).toBe(5);
    expect(peer.metrics.count('limit:memory:rate_unanswered')).toBe(4);
    expect(peer.closedWith()).toBeUndefined();
  });

  it('never decodes a refused frame, even one that would not decode', async () => {
    const peer = rawPeer(LIMITS);
    peer.send({ type: 'hello', versions: [2], client: 'flood-test' });
    peer.send({ type: 'ping', nonce: 1 });
    await settle();
    const decode = vi.spyOn(FrameCodec.prototype, 'decode');
    // 0xc1 is never used in MessagePack: decoding it would answer PROTO_MALFORMED.
    for (let i = 0; i < 3; i++) peer.sendBytes(new Uint8Array([0xc1]));
    await settle();
    expect(decode).not.toHaveBeenCalled();
    expect(peer.metrics.count('limit:memory:malformed')).toBe(0);
    expect(peer.errors().map((f) => f.type === 'error' && f.code)).toEqual(['RATE_LIMITED']);
  });

  it('closes a connection that keeps flooding (close RATE_LIMITED) although the bucket lets a frame through each second', async () => {
    const peer = rawPeer(LIMITS);
    peer.send({ type: 'hello', versions: [2], client: 'flood-test' });
    await settle();
    let seconds = 0;
    // Each second: one token, three pings. The old "refusals in a row" count restarted at every accepted ping.
    while (peer.closedWith() === undefined && seconds < 30) {
      peer.clock.time += 1_000;
      seconds++;
      for (let i = 0; i < 3; i++) peer.send({ type: 'ping', nonce: seconds * 10 + i });
      await settle();
    }
    expect(peer.closedWith()).toBe('RATE_LIMITED');
    // One refusal in the 1st second (the bucket refilled to two), then two a second: the 11th, more than
    // rate_refusals (10) in 10 s, comes in the 6th second. Seven pings were accepted meanwhile, six answered
    // (the close came before the last one's turn).
    expect(seconds).toBe(6);
    expect(peer.pongs()).toBe(6);
    // One answer per refusal burst (the retry hint is 1 s here: one a second), never one per frame.
    expect(peer.errors().filter((f) => f.type === 'error' && f.code === 'RATE_LIMITED')).toHaveLength(6);
    expect(peer.frames().at(-1)).toMatchObject({ type: 'close', code: 'RATE_LIMITED' });
  });
});

describe('RateRefusals', () => {
  it('counts refusals over a fixed window, not in a row: a new window starts the count again', () => {
    const refusals = new RateRefusals(2, 10_000);
    expect(refusals.refuse(0, 50)).toBe('answer');
    expect(refusals.refuse(10, 50)).toBe('drop');
    expect(refusals.refuse(60, 50)).toBe('close');
    const fresh = new RateRefusals(2, 10_000);
    fresh.refuse(0, 50);
    fresh.refuse(100, 50);
    expect(fresh.refuse(10_000, 50)).toBe('answer');
  });
});
