/**
 * The timers of one QUIC connection: quiche's own deadline (loss detection,
 * ACK delay, idle timeout; `timeout()` / `onTimeout()`), and a keep-alive PING
 * while sessions are open.
 *
 * A deadline is handled after the input that waited for the process: the
 * event loop runs timers before it reads sockets, so a process that was busy
 * past a probe timeout (a fan-out to a thousand peers) would fire it while the
 * ACKs that cancel it sit unread in the socket, and send probes for packets
 * that had arrived (RFC 9002 §6.2). The timer only queues the check for the
 * end of the loop's I/O phase (setImmediate), which asks quiche again.
 */
import type { Connection } from './quiche-config.ts';

export class ConnectionClock {
  readonly #quic: Connection;
  readonly #onTimeout: () => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The deadline passed: its check waits for the end of the I/O phase. */
  #expiry: ReturnType<typeof setImmediate> | undefined;
  #deadline = 0;
  #keepAlive: ReturnType<typeof setInterval> | undefined;

  /** `onTimeout` runs after quiche handled its deadline: the moment to look at every stream and send. */
  constructor(quic: Connection, onTimeout: () => void) {
    this.#quic = quic;
    this.#onTimeout = onTimeout;
  }

  /**
   * Follows quiche's next deadline (call after every send). False when quiche has
   * none, which is the case once the connection is closed (quiche's timeout() is
   * None then): callers ask isClosed() only in that case.
   */
  arm(): boolean {
    const timeout = this.#quic.timeout();
    if (timeout === null) {
      this.#stopTimer();
      return false;
    }
    // A check is already due at the end of this I/O phase; it asks quiche for the deadline itself.
    if (this.#expiry !== undefined) return true;
    // Re-arming a Node timer on every packet is measurable: keep it when the deadline barely moved.
    const deadline = performance.now() + timeout;
    if (this.#timer !== undefined && Math.abs(deadline - this.#deadline) < 1) return true;
    this.#stopTimer();
    this.#deadline = deadline;
    this.#timer = setTimeout(this.#fire, timeout);
    return true;
  }

  /**
   * An idle connection must not time out while sessions sit quiet: a PING every
   * `intervalMs` keeps both ends' idle timers fed (RFC 9000 §10.1.2).
   * `shouldPing` says whether it is still wanted; `sent` flushes the packet.
   */
  startKeepAlive(intervalMs: number, shouldPing: () => boolean, sent: () => void): void {
    if (this.#keepAlive !== undefined) return;
    this.#keepAlive = setInterval(() => {
      if (!shouldPing()) return;
      try {
        this.#quic.sendAckEliciting();
      } catch {
        // closing
      }
      sent();
    }, intervalMs);
    this.#keepAlive.unref();
  }

  stopKeepAlive(): void {
    if (this.#keepAlive !== undefined) clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
  }

  /** Stops every timer. */
  stop(): void {
    this.#stopTimer();
    this.stopKeepAlive();
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#expiry !== undefined) clearImmediate(this.#expiry);
    this.#expiry = undefined;
  }

  /** Bound once. The deadline's moment: checked after the socket input that waited (see above). */
  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#expiry ??= setImmediate(this.#expire);
  };

  readonly #expire = (): void => {
    this.#expiry = undefined;
    const left = this.#quic.timeout();
    // The input read meanwhile moved the deadline (an ACK cancelled the probe): follow it instead.
    if (left !== null && left > 0) {
      this.arm();
      return;
    }
    this.#quic.onTimeout();
    this.#onTimeout();
  };
}
