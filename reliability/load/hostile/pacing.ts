/** How far a paced loop may fall behind before it forgets the backlog. */
const MAX_LAG_MS = 100;

/**
 * Bounded loops for load generators (the network rule: loops bounded in count
 * and in time). `paced` runs `step` about `perSecond` times a second until the
 * deadline or `maxSteps`, whichever comes first.
 */
export async function paced(
  perSecond: number,
  deadline: number,
  step: (index: number) => void | Promise<void>,
  maxSteps = Number.MAX_SAFE_INTEGER,
): Promise<number> {
  let started = performance.now();
  let index = 0;
  let indexAtStart = 0;
  while (performance.now() < deadline && index < maxSteps) {
    await step(index);
    index += 1;
    let due = started + ((index - indexAtStart) * 1000) / perSecond;
    // Fallen behind by more than MAX_LAG_MS (a process stopped by SIGSTOP, a starved one):
    // carry on at the rate from now instead of sending the backlog in one burst.
    if (performance.now() - due > MAX_LAG_MS) {
      started = performance.now();
      indexAtStart = index;
      due = started;
    }
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(wait, deadline - performance.now())));
    else if (index % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  return index;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `promise`, or a rejection after `ms` (a QUIC stream that waits for credit the server never gives). */
export function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
