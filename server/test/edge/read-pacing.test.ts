/**
 * A WebSocket connection's socket is read no faster than `rate_bytes` (README
 * "Limits"; edge/transport/read-pacing.ts, issue 11), on real sockets: a client
 * offering large publications far faster gets no more bytes through than the
 * bucket allows in the time it took (an upper bound, true on a machine of any
 * speed): the server never even parses the rest before its time (TCP holds it
 * back in the client), and each pause is counted.
 */

import type { Frame } from '@pulse/proto';
import { dialWebSocket, register } from '@pulse/testing';
import { TEST_CODEC } from '@pulse/testing/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { type EdgeServer, startEdgeServer } from './edge-server.ts';

let edge: EdgeServer | undefined;
afterEach(async () => {
  await edge?.stop();
  edge = undefined;
});

const KIB = 1024;
const LIMITS = {
  maxMessageSize: 32 * KIB,
  maxFrameBytes: 64 * KIB,
  rateBytes: 64 * KIB,
  rateBytesBurst: 64 * KIB,
  // Frames are not what is limited here.
  rate: 10_000,
  rateBurst: 10_000,
};

describe('read pacing', () => {
  it('lets through at most rate_bytes per second after the burst, and counts the pauses', async () => {
    edge = await startEdgeServer({ limits: LIMITS });
    const device = await register(dialWebSocket(`ws://127.0.0.1:${edge.httpPort}/pulse/ws`));
    const payload = new Uint8Array(30 * KIB);
    const frame = TEST_CODEC.encode({ type: 'publish', id: 1, channel: 'public:pacing', payload });
    const offered = 40;
    let published = 0;
    const refusals: string[] = [];
    const started = performance.now();
    const done = new Promise<void>((resolve) =>
      device.client.takeUndecoded((bytes) => {
        const answer: Frame = TEST_CODEC.decode(bytes);
        if (answer.type === 'published') published += 1;
        if (answer.type === 'error' || answer.type === 'close') refusals.push(answer.code);
        if (published + refusals.length >= 8) resolve();
      }),
    );
    // 40 × 30 KiB offered at once: 1.2 MiB against a 64 KiB burst and 64 KiB/s.
    for (let i = 0; i < offered; i++) device.client.sendBytes(frame);
    await done;
    const text = await edge.metrics();
    const seconds = (performance.now() - started) / 1000;
    // Frames the core received (registration included): the bucket's bytes, plus one socket chunk read before a pause (64 KiB at most).
    const received = Number(/pulse_messages_bytes\{[^}]*direction="in"[^}]*\} (\d+)/.exec(text)?.[1]);
    expect(received).toBeGreaterThan(8 * frame.length);
    expect(received).toBeLessThanOrEqual(LIMITS.rateBytesBurst + LIMITS.rateBytes * seconds + 64 * KIB);
    expect(published).toBeGreaterThan(0);
    expect(published * frame.length).toBeLessThan(offered * frame.length);
    expect(text).toMatch(/pulse_limit_violations_total\{[^}]*limit="rate_bytes_read"[^}]*\} [1-9]/);
    device.client.close();
  });
});
