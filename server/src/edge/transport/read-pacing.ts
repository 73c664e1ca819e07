/**
 * Reads a connection's socket no faster than `rate_bytes` (issue 11): every
 * chunk read is charged to a token bucket of `rate_bytes` per second and
 * `rate_bytes_burst` bytes (at least one whole frame); once the bucket is in
 * debt, the socket is paused until the debt is paid back, so TCP's own flow
 * control holds the sender back. A byte flood then costs the server what
 * `rate_bytes` allows, instead of a parse, an unmasking copy and a large
 * allocation for every frame the core would refuse anyway (the allocations
 * were the garbage collector's pauses everyone else waited through).
 *
 * Only the edge sees bytes before frames, so this is the edge's; the core's
 * `rate_bytes` bucket (session.ts) still answers `RATE_LIMITED` on transports
 * without such pacing.
 */
import type { Duplex } from 'node:stream';

export interface ReadPacingLimits {
  readonly rateBytes: number;
  readonly rateBytesBurst: number;
  readonly maxFrameBytes: number;
}

/** A paced socket: `stop()` ends the pacing for good (the socket stays paused if it was). */
export interface ReadPacer {
  stop(): void;
}

/**
 * Paces `socket`'s reads; `onPaused(ms)` hears each pause (a metric). If the
 * socket's owner resumes it early (`ws` does after its own backpressure), the
 * next chunk is charged and pauses it again.
 */
export function paceReads(
  socket: Duplex,
  limits: ReadPacingLimits,
  now: () => number,
  onPaused: (ms: number) => void,
): ReadPacer {
  const capacity = Math.max(limits.rateBytesBurst, limits.maxFrameBytes);
  const perMs = limits.rateBytes / 1000;
  // A token bucket that may go into debt: a chunk already read is parsed anyway, so it is charged in
  // full and the socket waits until the debt is paid back (at most one chunk beyond the bucket is read).
  let tokens = capacity;
  let updatedAt = now();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const resume = () => {
    timer = undefined;
    if (!stopped && !socket.destroyed) socket.resume();
  };
  socket.prependListener('data', (chunk: Buffer) => {
    if (stopped) return;
    const at = now();
    tokens = Math.min(capacity, tokens + (at - updatedAt) * perMs) - chunk.length;
    updatedAt = at;
    if (tokens >= 0) return;
    socket.pause();
    if (timer !== undefined) return;
    const wait = Math.ceil(-tokens / perMs);
    onPaused(wait);
    timer = setTimeout(resume, wait);
  });
  const stop = () => {
    stopped = true;
    clearTimeout(timer);
  };
  socket.once('close', stop);
  return { stop };
}
