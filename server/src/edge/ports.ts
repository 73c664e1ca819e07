import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/ports/clock.ts';
import type { RandomSource } from '../core/ports/random.ts';
import type { Scheduler } from '../core/ports/scheduler.ts';

/** The core's clock on Node: Date.now for wall time, performance.now for durations. */
export function systemClock(now: () => number = Date.now): Clock {
  return { now, monotonic: () => performance.now() };
}

/** node:crypto's CSPRNG, copied out of Buffer's shared pool into plain Uint8Arrays. */
export const nodeRandom: RandomSource = {
  bytes: (length) => new Uint8Array(randomBytes(length)),
};

/** Node's timers; unref'd, so a running core never keeps the process alive on its own. */
export const nodeScheduler: Scheduler = {
  after(delayMs, task) {
    const timer = setTimeout(task, delayMs);
    timer.unref();
    return () => clearTimeout(timer);
  },
  every(periodMs, task) {
    const timer = setInterval(task, periodMs);
    timer.unref();
    return () => clearInterval(timer);
  },
  afterIo(task) {
    setImmediate(task);
  },
};
