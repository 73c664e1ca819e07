import { afterEach, describe, expect, it, vi } from 'vitest';
import { Reconnector } from '../src/connection/reconnector.ts';

/** A reconnector whose attempts succeed or fail in the order `outcomes` gives; random() = 0.5 makes each delay half its ceiling. */
function reconnector(outcomes: boolean[], wanted = () => true) {
  let attempts = 0;
  const r = new Reconnector({
    baseMs: 100,
    maxMs: 1_000,
    random: () => 0.5,
    attempt: async () => {
      attempts += 1;
      if (outcomes.shift() === false) throw new Error(`attempt ${attempts} failed`);
    },
    wanted,
  });
  return { reconnector: r, attempts: () => attempts };
}

/** Lets the attempt's promise chain (failure, then scheduling) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Reconnector', () => {
  it('runs one attempt at a time', async () => {
    const { reconnector: r, attempts } = reconnector([true]);
    const first = r.start();
    expect(r.start()).toBe(first);
    expect(r.running).toBe(first);
    await first;
    expect(attempts()).toBe(1);
    expect(r.running).toBeUndefined();
  });

  it('after failures, retries with growing backoff until an attempt succeeds', async () => {
    vi.useFakeTimers();
    const { reconnector: r, attempts } = reconnector([false, false, true]);
    await expect(r.start()).rejects.toThrow('attempt 1 failed');
    await settle();
    expect(r.attempt).toBe(1);
    vi.advanceTimersByTime(49); // 0.5 × 100 ms
    expect(attempts()).toBe(1);
    vi.advanceTimersByTime(1);
    expect(attempts()).toBe(2);
    await settle();
    expect(r.attempt).toBe(2);
    vi.advanceTimersByTime(99); // 0.5 × 200 ms
    expect(attempts()).toBe(2);
    vi.advanceTimersByTime(1);
    expect(attempts()).toBe(3);
    await settle();
    r.succeeded();
    expect(r.attempt).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(attempts()).toBe(3);
  });

  it('schedules nothing once the connection no longer wants it, and stop() cancels what was scheduled', async () => {
    vi.useFakeTimers();
    let wanted = false;
    const unwanted = reconnector([false], () => wanted);
    await expect(unwanted.reconnector.start()).rejects.toThrow();
    await settle();
    vi.advanceTimersByTime(10_000);
    expect(unwanted.attempts()).toBe(1);

    wanted = true;
    const stopped = reconnector([false, true], () => wanted);
    await expect(stopped.reconnector.start()).rejects.toThrow();
    await settle();
    stopped.reconnector.stop();
    expect(stopped.reconnector.attempt).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(stopped.attempts()).toBe(1);
  });
});
