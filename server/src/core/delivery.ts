import type { Frame } from '@pulse/proto';
import type { RouterContext } from './context.ts';
import type { Cancel } from './ports/scheduler.ts';

/** The session side of delivery: where frames go and how full the pipe is. */
export interface DeliverySink {
  send(frame: Frame): void;
  bufferedAmount(): number;
  isOpen(): boolean;
}

const PAGE = 64;
/** How soon a delivery paused by a full connection buffer looks again. */
const RETRY_MS = 10;

/**
 * Store-and-forward to one online device, with flow control.
 *
 * A cursor walks the device's queue in id order (which is commit order, hence in
 * order per sender). At most `delivery_window` envelopes are in flight (sent, not
 * acknowledged), and sending pauses while the connection's buffer is above half
 * of `send_queue_bytes`; acks and a short retry timer resume it. An envelope
 * stays in the store until acknowledged: a reconnect or `sync` starts the cursor
 * again from the beginning (at least once).
 */
export class EnvelopeDelivery {
  readonly #ctx: RouterContext;
  readonly #account: string;
  readonly #deviceId: number;
  readonly #sink: DeliverySink;
  readonly #inFlight = new Set<string>();
  #cursor = 0;
  #retry: Cancel | undefined;

  constructor(ctx: RouterContext, account: string, deviceId: number, sink: DeliverySink) {
    this.#ctx = ctx;
    this.#account = account;
    this.#deviceId = deviceId;
    this.#sink = sink;
  }

  /** Sends what flow control allows; returns how many envelopes were sent. */
  pump(): number {
    const { deliveryWindow, sendQueueBytes } = this.#ctx.settings.limits;
    let sent = 0;
    while (this.#sink.isOpen() && this.#inFlight.size < deliveryWindow) {
      if (this.#sink.bufferedAmount() > sendQueueBytes / 2) {
        this.#retryLater();
        break;
      }
      const limit = Math.min(PAGE, deliveryWindow - this.#inFlight.size);
      const page = this.#ctx.store.pending(this.#account, this.#deviceId, this.#cursor, limit, this.#ctx.clock.now());
      for (const envelope of page) {
        this.#sink.send({ type: 'deliver', ...envelope });
        this.#inFlight.add(envelope.envelopeId);
        this.#cursor = Number(envelope.envelopeId);
        sent++;
      }
      if (page.length < limit) break;
    }
    if (sent > 0) this.#ctx.metrics.envelopes('delivered', sent);
    return sent;
  }

  /** The device acknowledged: delete, then refill the window. */
  ack(envelopeIds: readonly string[]): void {
    const deleted = this.#ctx.store.ack(this.#account, this.#deviceId, envelopeIds);
    if (deleted > 0) this.#ctx.metrics.envelopes('acked', deleted);
    for (const id of envelopeIds) this.#inFlight.delete(id);
    this.pump();
  }

  /** `sync`: redeliver everything still unacknowledged, from the start. */
  resync(): number {
    this.#cursor = 0;
    this.#inFlight.clear();
    return this.pump();
  }

  #retryLater(): void {
    if (this.#retry !== undefined) return;
    this.#retry = this.#ctx.scheduler.after(RETRY_MS, () => {
      this.#retry = undefined;
      this.pump();
    });
  }
}
