export interface HeartbeatOptions {
  readonly now: () => number;
  readonly random: () => number;
  /** Sends a `ping` with this nonce. */
  readonly ping: (nonce: number) => void;
  /** The server has been silent too long: the transport is dead. */
  readonly silent: () => void;
}

/**
 * Liveness on a connected transport (PROTOCOL.md "Liveness, answers, errors,
 * close"): a `ping` every half of the server's `welcome.heartbeatMs` (at least
 * every second); nothing received for four such intervals counts as a dead transport.
 */
export class Heartbeat {
  readonly #options: HeartbeatOptions;
  #timer: ReturnType<typeof setInterval> | undefined;
  #lastReceivedAt = 0;

  constructor(options: HeartbeatOptions) {
    this.#options = options;
  }

  /** Something arrived from the server (any frame counts). */
  received(): void {
    this.#lastReceivedAt = this.#options.now();
  }

  start(heartbeatMs: number): void {
    clearInterval(this.#timer);
    const { now, random, ping, silent } = this.#options;
    const interval = Math.max(1_000, Math.floor(heartbeatMs / 2));
    this.#timer = setInterval(() => {
      if (now() - this.#lastReceivedAt > interval * 4) {
        silent();
        return;
      }
      ping(Math.floor(random() * 0xffff_ffff));
    }, interval);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
