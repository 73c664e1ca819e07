import type { Frame } from '@pulse/proto';
import type { RouterContext } from './context.ts';
import type { Cancel } from './ports/scheduler.ts';
import { BULK_RETRY_MS } from './session/send-queue.ts';
import type { StoredEnvelope } from './store.ts';

/** The session side of delivery: where frames go and how much the receiver's buffer takes now. */
export interface DeliverySink {
  /** Sends the frame if the receiver's buffer has room for it; false: offer it again later. */
  offer(frame: Frame): boolean;
  /** Bytes the buffer takes now (0: wait for it to drain). */
  room(): number;
  isOpen(): boolean;
  /** Delivery paused for a full buffer (a metric). */
  paused(): void;
  /** Acks of ids not delivered on this connection, ignored (a metric). */
  unknownAck(count: number): void;
}

/** Most envelopes read from the store at once. */
const PAGE = 32;

/**
 * Store-and-forward to one online device, with flow control.
 *
 * A cursor walks the device's queue in id order (which is commit order, hence in
 * order per sender). At most `delivery_window` envelopes are in flight (sent, not
 * acknowledged), and each envelope is offered to the session only when the
 * receiver's buffer has room for it (SendQueue.offerBulk: half of
 * `send_queue_bytes`); a full buffer pauses delivery where it stands, and an
 * ack or the retry timer (BULK_RETRY_MS) resumes it. So a backlog of any size
 * reaches a slow reader at its own pace, never closing it (issue 11). An
 * envelope stays in the store until acknowledged: a reconnect or `sync` starts
 * the cursor again from the beginning (at least once).
 *
 * A page read is sized by the room in the buffer and the size of the envelopes
 * last read, so a paused delivery holds little that it must read again.
 *
 * Store reads are asynchronous, so every operation (pump, hand-off, ack,
 * resync) runs one after another on one chain: two pumps never read the same
 * page with the same cursor, hence never send an envelope twice; a pump asked
 * for while one is already waiting to run is that same pump.
 *
 * Envelopes committed while the device is online come from memory (`handOff`,
 * issue 15), not read back from the store: only while the cursor is at the
 * head of the queue (the last read found nothing after it, and every envelope
 * committed since was handed off and sent), so an envelope from memory is
 * always the next one in commit order. Hand-offs reach the chain in commit
 * order (the group commit answers its batches in order); one the cursor
 * already passed was read from the store and is not sent again. One that flow
 * control refuses leaves the cursor where it is, off the head: it stays in the
 * store and the next read takes it, as it takes everything behind it.
 */
export class EnvelopeDelivery {
  readonly #ctx: RouterContext;
  readonly #account: string;
  readonly #deviceId: number;
  readonly #sink: DeliverySink;
  readonly #inFlight = new Set<string>();
  #cursor = 0;
  /** The store holds nothing after the cursor that this delivery has not sent (see the class comment). */
  #atHead = false;
  /** Bytes per envelope expected in the next page (the mean of the last one; at first the largest allowed). */
  #frameEstimate: number;
  #retry: Cancel | undefined;
  /** The last operation queued; the next one starts when it has settled. */
  #tail: Promise<unknown> = Promise.resolve();
  /** A pump queued and not yet started (pumps asked for meanwhile join it). */
  #queuedPump: Promise<number> | undefined;

  constructor(ctx: RouterContext, account: string, deviceId: number, sink: DeliverySink) {
    this.#ctx = ctx;
    this.#account = account;
    this.#deviceId = deviceId;
    this.#sink = sink;
    this.#frameEstimate = ctx.settings.limits.maxMessageSize;
  }

  /**
   * The store may hold envelopes this delivery has not seen (a wake, a
   * retry, a reconnect): reads and sends what flow control allows; resolves
   * to how many envelopes were sent.
   */
  pump(): Promise<number> {
    if (this.#queuedPump === undefined) {
      this.#queuedPump = this.#serial(() => {
        this.#queuedPump = undefined;
        this.#atHead = false;
        return this.#pumpNow();
      });
    }
    return this.#queuedPump;
  }

  /**
   * Envelopes for this device were just committed on this node, in commit
   * order: sends them from memory while the cursor is at the head of the
   * queue, else reads the store as a pump does. Resolves to how many were sent.
   */
  handOff(envelopes: readonly StoredEnvelope[]): Promise<number> {
    const handed = this.#serial(async () => this.#handOffNow(envelopes));
    // Off the head: a pump, joined with the others asked for meanwhile (one read for many commits).
    return handed.then(({ sent, read }) => (read ? this.pump().then((more) => sent + more) : sent));
  }

  #handOffNow(envelopes: readonly StoredEnvelope[]): { sent: number; read: boolean } {
    let sent = 0;
    let read = false;
    for (const envelope of envelopes) {
      if (Number(envelope.envelopeId) <= this.#cursor) continue; // read from the store already
      if (!this.#atHead || !this.#sink.isOpen()) {
        read = this.#sink.isOpen();
        break;
      }
      if (this.#inFlight.size >= this.#ctx.settings.limits.deliveryWindow) {
        // The window is full: the next ack refills it from the store.
        this.#atHead = false;
        break;
      }
      if (!this.#send(envelope)) {
        this.#atHead = false;
        this.#pause();
        break;
      }
      sent++;
    }
    if (sent > 0) this.#ctx.metrics.envelopes('delivered', sent);
    return { sent, read };
  }

  /**
   * The device acknowledged: delete, then refill the window. Only envelopes
   * delivered on this connection and not acknowledged yet count (issue 11): an
   * id the device was never sent is ignored (counted as `ack_unknown`), so a
   * device cannot delete what it has not received. What was delivered before a
   * reconnect comes again, and its ack then counts.
   */
  ack(envelopeIds: readonly string[]): Promise<void> {
    return this.#serial(async () => {
      const delivered = envelopeIds.filter((id) => this.#inFlight.has(id));
      if (delivered.length < envelopeIds.length) this.#sink.unknownAck(envelopeIds.length - delivered.length);
      if (delivered.length === 0) return;
      try {
        const deleted = await this.#ctx.store.ack(this.#account, this.#deviceId, delivered);
        if (deleted > 0) this.#ctx.metrics.envelopes('acked', deleted);
      } finally {
        // Not deleted (the store failed): the envelopes stay queued and come again after a reconnect or `sync`.
        for (const id of delivered) this.#inFlight.delete(id);
      }
      // At the head there is nothing stored to refill the window with: new envelopes come by hand-off.
      if (!this.#atHead) await this.#pumpNow();
    });
  }

  /** `sync`: redeliver everything still unacknowledged, from the start. */
  resync(): Promise<number> {
    return this.#serial(() => {
      this.#cursor = 0;
      this.#atHead = false;
      this.#inFlight.clear();
      return this.#pumpNow();
    });
  }

  #serial<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(operation);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  async #pumpNow(): Promise<number> {
    const { deliveryWindow } = this.#ctx.settings.limits;
    let sent = 0;
    this.#atHead = false;
    while (this.#sink.isOpen() && this.#inFlight.size < deliveryWindow) {
      const room = this.#sink.room();
      if (room === 0) {
        this.#pause();
        break;
      }
      const fits = Math.max(1, Math.ceil(room / this.#frameEstimate));
      const limit = Math.min(PAGE, deliveryWindow - this.#inFlight.size, fits);
      const page = await this.#ctx.store.pending(
        this.#account,
        this.#deviceId,
        this.#cursor,
        limit,
        this.#ctx.clock.now(),
      );
      if (page.length > 0) {
        const bytes = page.reduce((total, envelope) => total + envelope.payload.length, 0);
        this.#frameEstimate = Math.max(1, Math.ceil(bytes / page.length));
      }
      let paused = false;
      for (const envelope of page) {
        if (!this.#sink.isOpen()) break;
        // Checked before EVERY envelope: the rest of the page waits (it is read again when delivery resumes).
        if (!this.#send(envelope)) {
          paused = true;
          break;
        }
        sent++;
      }
      if (paused) {
        this.#pause();
        break;
      }
      if (page.length < limit) {
        // Nothing stored after the cursor: what is committed next can come from memory.
        this.#atHead = this.#sink.isOpen();
        break;
      }
    }
    if (sent > 0) this.#ctx.metrics.envelopes('delivered', sent);
    return sent;
  }

  /** Offers one envelope to the session; false: its buffer is full (the cursor stays before it). */
  #send(envelope: StoredEnvelope): boolean {
    if (!this.#sink.offer({ type: 'deliver', ...envelope })) return false;
    this.#inFlight.add(envelope.envelopeId);
    this.#cursor = Number(envelope.envelopeId);
    return true;
  }

  #pause(): void {
    if (!this.#sink.isOpen()) return;
    this.#sink.paused();
    this.#retryLater();
  }

  #retryLater(): void {
    if (this.#retry !== undefined) return;
    this.#retry = this.#ctx.scheduler.after(BULK_RETRY_MS, () => {
      this.#retry = undefined;
      this.pump().catch((error: unknown) => this.#ctx.log.error({ err: error }, 'delivery failed'));
    });
  }
}
