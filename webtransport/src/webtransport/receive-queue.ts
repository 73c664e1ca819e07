/**
 * The queue between QUIC and a ReadableStream (a stream's receive half, a
 * session's datagrams), kept here rather than inside the WHATWG stream
 * (highWaterMark 0): every byte waiting for the reader is charged to a
 * ReceiveBudget, released once the reader has taken it, and thrown away at
 * once when the stream is stopped or reset. A reader that waits gets the next
 * chunk directly: nothing is queued or charged, so a budget that is full never
 * holds back a reader that keeps up.
 *
 * When the reader pulls, everything queued moves into the WHATWG queue at once
 * (reads then take it without a pull each) and stays charged as "handed over"
 * until the next pull, which comes exactly when the reader has taken all of it.
 */
import { queuedCost, type ReceiveBudget } from './receive-budget.ts';

export interface ReceiveQueueHooks {
  /** The reader wants more: the edge may read from QUIC now. */
  pulled(): void;
  /** The reader cancelled before the end (the edge sends STOP_SENDING). */
  cancelled(reason: unknown): void;
}

export class ReceiveQueue {
  readonly readable: ReadableStream<Uint8Array>;
  readonly budget: ReceiveBudget;
  readonly #hooks: ReceiveQueueHooks;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  readonly #chunks: Uint8Array[] = [];
  /** Charged for `#chunks`. */
  #queuedCost = 0;
  /** Chunks in the WHATWG queue, not read yet as far as this side knows (until the next pull): count, bytes, cost. */
  #handedCount = 0;
  #handedBytes = 0;
  #handedCost = 0;
  /** A read waits and nothing is queued: the next chunk goes straight to it. */
  #waiting = false;
  /** The end (FIN) came: the stream closes once the reader has taken everything. */
  #closing = false;
  /** No more input: closing, failed or cancelled. */
  #ended = false;

  constructor(budget: ReceiveBudget, hooks: ReceiveQueueHooks) {
    this.budget = budget;
    this.#hooks = hooks;
    this.readable = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        pull: () => this.#pull(),
        cancel: (reason) => this.#cancel(reason),
      },
      { highWaterMark: 0 },
    );
  }

  /** What the chunks the reader has not taken cost (bytes plus per-chunk overhead). */
  get queuedCost(): number {
    return this.#queuedCost + this.#handedCost;
  }

  /** Chunks the reader has not taken. */
  get queuedCount(): number {
    return this.#chunks.length + this.#handedCount;
  }

  /** A read waits: a chunk pushed now is handed over, not queued. */
  get waiting(): boolean {
    return this.#waiting;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Queues a chunk (the caller checked the room), or hands it to the read that waits. */
  push(chunk: Uint8Array): void {
    if (this.#ended || chunk.byteLength === 0) return;
    if (this.#waiting) {
      this.#waiting = false;
      this.#controller.enqueue(chunk);
      // The read was withdrawn (releaseLock) since it asked: the chunk waits in the WHATWG queue.
      if ((this.#controller.desiredSize ?? 0) < 0) this.#handOver(chunk);
      return;
    }
    const cost = queuedCost(chunk.byteLength);
    this.#charge(cost);
    this.#chunks.push(chunk);
    this.#queuedCost += cost;
  }

  /** The end of the input: the readable closes once the reader has taken what is queued. */
  close(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#closing = true;
    this.#waiting = false;
    if (this.queuedCount === 0) this.#controller.close();
  }

  /** The input failed (a reset, the session gone): what is queued is thrown away and the readable errors. */
  fail(error: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#waiting = false;
    this.#discard();
    this.#controller.error(error);
  }

  /** Called by the WHATWG stream when its queue is empty and a read waits. */
  #pull(): void {
    // The WHATWG queue is empty: whatever was handed over has been read.
    if (this.#handedCount > 0) {
      const cost = this.#handedCost;
      this.#handedCount = 0;
      this.#handedBytes = 0;
      this.#handedCost = 0;
      this.#release(cost);
    }
    const chunks = this.#chunks;
    if (chunks.length === 0) {
      if (this.#closing) this.#controller.close();
      else if (!this.#ended) {
        this.#waiting = true;
        this.#hooks.pulled();
      }
      return;
    }
    // The first chunk goes to the read that waits; the rest wait in the WHATWG queue, still charged.
    const first = chunks[0] as Uint8Array;
    const firstCost = queuedCost(first.byteLength);
    this.#controller.enqueue(first);
    for (let i = 1; i < chunks.length; i++) {
      const chunk = chunks[i] as Uint8Array;
      this.#controller.enqueue(chunk);
      this.#handedCount++;
      this.#handedBytes += chunk.byteLength;
    }
    this.#handedCost = this.#queuedCost - firstCost;
    this.#queuedCost = 0;
    chunks.length = 0;
    this.#release(firstCost);
    if (!this.#ended) this.#hooks.pulled();
  }

  #cancel(reason: unknown): void {
    const wasEnded = this.#ended;
    this.#ended = true;
    this.#waiting = false;
    this.#discard();
    if (!wasEnded) this.#hooks.cancelled(reason);
  }

  /** A chunk that waits in the WHATWG queue, charged until the next pull. */
  #handOver(chunk: Uint8Array): void {
    const cost = queuedCost(chunk.byteLength);
    this.#charge(cost);
    this.#handedCount++;
    this.#handedBytes += chunk.byteLength;
    this.#handedCost += cost;
  }

  /** Drops everything queued or handed over (error() and cancel() empty the WHATWG queue). */
  #discard(): void {
    let bytes = this.#handedBytes;
    for (const chunk of this.#chunks) bytes += chunk.byteLength;
    const cost = this.#queuedCost + this.#handedCost;
    this.#chunks.length = 0;
    this.#queuedCost = 0;
    this.#handedCount = 0;
    this.#handedBytes = 0;
    this.#handedCost = 0;
    if (cost > 0) this.#release(cost);
    this.budget.discarded(bytes);
  }

  #charge(cost: number): void {
    if (this.#queuedCost + this.#handedCost === 0) this.budget.hold(this);
    this.budget.charge(cost);
  }

  #release(cost: number): void {
    this.budget.release(cost);
    if (this.#queuedCost + this.#handedCost === 0) this.budget.unhold(this);
  }
}
