/** Stops a scheduled task; calling it again does nothing. */
export type Cancel = () => void;

/**
 * Timers, passed in (edge: Node's timers, unref'd so they never keep the process
 * alive). The core schedules heartbeats, the expiry purge, delivery retries and
 * the group commit through it and never touches a timer API itself.
 */
export interface Scheduler {
  /** Runs `task` once, `delayMs` from now. */
  after(delayMs: number, task: () => void): Cancel;
  /** Runs `task` every `periodMs`. */
  every(periodMs: number, task: () => void): Cancel;
  /**
   * Runs `task` once the I/O callbacks already waiting have run (Node:
   * setImmediate): the window in which the group commit gathers sends.
   */
  afterIo(task: () => void): void;
}
