/**
 * The two halves of a WebTransport stream as WHATWG streams, over a small port
 * the QUIC edge implements. Backpressure runs end to end: the receive side asks
 * the edge for bytes only while a read waits or its read-ahead and its budget
 * have room (so a slow reader leaves the bytes in QUIC and the peer waits on
 * flow control), and a write resolves only once QUIC has accepted every byte.
 */
import { QUEUED_CHUNK_OVERHEAD_BYTES, type ReceiveBudget } from './receive-budget.ts';
import { ReceiveQueue } from './receive-queue.ts';
import { streamErrorCodeOf, type WebTransportError } from './types.ts';

/** What a stream half needs from the transport below. */
export interface StreamPort {
  /** Hands bytes to QUIC; resolves when all are accepted, rejects if the stream was stopped or the session ended. */
  write(streamId: number, data: Uint8Array, fin: boolean): Promise<void>;
  /** RESET_STREAM with an application code (the edge maps it, §4.4). */
  reset(streamId: number, code: number): void;
  /** STOP_SENDING with an application code. */
  stopSending(streamId: number, code: number): void;
  /** The reader wants more: the edge reads buffered QUIC bytes now. */
  resume(streamId: number): void;
}

/** Receive half: the edge pushes bytes; the application reads a ReadableStream. */
export class ReceiveSide {
  readonly #queue: ReceiveQueue;
  readonly #readAheadBytes: number;

  /** `readAheadBytes`: what may be queued ahead of the reader; `budget`: the session's. */
  constructor(port: StreamPort, streamId: number, readAheadBytes: number, budget: ReceiveBudget) {
    this.#readAheadBytes = readAheadBytes;
    this.#queue = new ReceiveQueue(budget, {
      pulled: () => port.resume(streamId),
      cancelled: (reason) => port.stopSending(streamId, streamErrorCodeOf(reason)),
    });
  }

  get readable(): ReadableStream<Uint8Array> {
    return this.#queue.readable;
  }

  /** No more bytes will be taken: finished, reset, or cancelled by the reader. */
  get done(): boolean {
    return this.#queue.ended;
  }

  /**
   * Bytes the edge may read from QUIC now: any amount while a read waits (it
   * takes them at once), else what both the read-ahead and the budget have
   * room for; 0 when done.
   */
  get wanted(): number {
    const queue = this.#queue;
    if (queue.ended) return 0;
    if (queue.waiting) return Number.POSITIVE_INFINITY;
    const room = Math.min(this.#readAheadBytes - queue.queuedCost, queue.budget.room) - QUEUED_CHUNK_OVERHEAD_BYTES;
    return room > 0 ? room : 0;
  }

  push(bytes: Uint8Array): void {
    this.#queue.push(bytes);
  }

  finish(): void {
    this.#queue.close();
  }

  /** The peer reset the stream (or the session ended): queued bytes are thrown away. */
  abort(error: WebTransportError): void {
    this.#queue.fail(error);
  }
}

/** Send half: the application writes a WritableStream; each write waits for QUIC to take the bytes. */
export class SendSide {
  readonly writable: WritableStream<Uint8Array>;
  #controller!: WritableStreamDefaultController;
  #done = false;

  constructor(port: StreamPort, streamId: number) {
    this.writable = new WritableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      // Returns the port's promise itself: an async wrapper would add microtask hops to every write.
      write: (chunk) => {
        if (!(chunk instanceof Uint8Array)) {
          return Promise.reject(new TypeError('WebTransport streams carry Uint8Array chunks'));
        }
        return port.write(streamId, chunk, false);
      },
      close: async () => {
        this.#done = true;
        await port.write(streamId, new Uint8Array(0), true);
      },
      abort: (reason) => {
        if (this.#done) return;
        this.#done = true;
        port.reset(streamId, streamErrorCodeOf(reason));
      },
    });
  }

  get done(): boolean {
    return this.#done;
  }

  /** The peer sent STOP_SENDING (or the session ended). */
  abort(error: WebTransportError): void {
    if (this.#done) return;
    this.#done = true;
    this.#controller.error(error);
  }
}
