import type { Logger } from './ports/logger.ts';
import type { Scheduler } from './ports/scheduler.ts';

/**
 * The core's timers, each task guarded: a task that throws, or returns a
 * promise that rejects (a store error in the purge, a delivery retry, the
 * heartbeat), is logged and the timer goes on. No timer callback of the core
 * can end the process (issue 11); the edge's last-resort handler (main.ts) is
 * for faults outside the core.
 */
export function guardedScheduler(scheduler: Scheduler, log: Logger): Scheduler {
  const guard =
    (task: () => unknown): (() => void) =>
    () => {
      try {
        const result = task();
        if (result instanceof Promise) result.catch((error: unknown) => log.error({ err: error }, 'timer task failed'));
      } catch (error) {
        log.error({ err: error }, 'timer task failed');
      }
    };
  return {
    after: (delayMs, task) => scheduler.after(delayMs, guard(task)),
    every: (periodMs, task) => scheduler.every(periodMs, guard(task)),
    afterIo: (task) => scheduler.afterIo(guard(task)),
  };
}
