import { backoffDelay } from './backoff.ts';

export interface ReconnectorOptions {
  /** First delay; doubles per failed attempt up to `maxMs` (full jitter, backoff.ts). */
  readonly baseMs: number;
  readonly maxMs: number;
  readonly random: () => number;
  /** One connection attempt: every transport in order, hello, the ready hook. */
  readonly attempt: () => Promise<void>;
  /** Whether the connection still wants an attempt (it is connecting or reconnecting, not connected, idle or closed). */
  readonly wanted: () => boolean;
}

/**
 * Runs connection attempts one at a time and, after each failure, schedules
 * the next one with exponential backoff and full jitter, until one succeeds or
 * the connection stops wanting one.
 */
export class Reconnector {
  readonly #options: ReconnectorOptions;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> | undefined;

  constructor(options: ReconnectorOptions) {
    this.#options = options;
  }

  /** Failed attempts since the last success: 0 while the first attempt of a round runs. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The attempt in progress, if any. */
  get running(): Promise<void> | undefined {
    return this.#running;
  }

  /** Starts an attempt unless one runs, and returns it; when it fails, the next one is scheduled. */
  start(): Promise<void> {
    if (this.#running === undefined) {
      this.#running = this.#options.attempt().finally(() => {
        this.#running = undefined;
      });
      // Keep trying in the background; the caller still learns that this attempt failed.
      this.#running.catch(() => this.schedule());
    }
    return this.#running;
  }

  /** Schedules the next attempt after the backoff delay for the attempts failed so far. */
  schedule(): void {
    if (!this.#options.wanted()) return;
    const { baseMs, maxMs, random } = this.#options;
    const delay = backoffDelay(this.#attempt, baseMs, maxMs, random);
    this.#attempt += 1;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      if (this.#running === undefined && this.#options.wanted()) void this.start();
    }, delay);
  }

  /** An attempt succeeded: the next failure starts the backoff from the beginning. */
  succeeded(): void {
    this.#attempt = 0;
  }

  /** Cancels a scheduled attempt and forgets the failures (reset or close). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#attempt = 0;
  }
}
