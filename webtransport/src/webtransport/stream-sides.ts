/**
 * The two halves of a WebTransport stream as WHATWG streams, over a small port
 * the QUIC edge implements. Backpressure runs end to end: the receive side asks
 * the edge for bytes only while its queue is below `highWaterMark` (so a slow
 * reader leaves the bytes in QUIC and the peer waits on flow control), and a
 * write resolves only once QUIC has accepted every byte.
 */
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

const byteLength = (chunk: Uint8Array): number => chunk.byteLength;

/** Receive half: the edge pushes bytes; the application reads a ReadableStream. */
export class ReceiveSide {
  readonly readable: ReadableStream<Uint8Array>;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #done = false;

  constructor(port: StreamPort, streamId: number, highWaterMark: number) {
    this.readable = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        pull: () => port.resume(streamId),
        cancel: (reason) => {
          if (this.#done) return;
          this.#done = true;
          port.stopSending(streamId, streamErrorCodeOf(reason));
        },
      },
      { highWaterMark, size: byteLength },
    );
  }

  get done(): boolean {
    return this.#done;
  }

  /** Bytes the reader is ready for (0 when its queue is full or it is done). */
  get wanted(): number {
    if (this.#done) return 0;
    return Math.max(0, this.#controller.desiredSize ?? 0);
  }

  push(bytes: Uint8Array): void {
    if (!this.#done && bytes.length > 0) this.#controller.enqueue(bytes);
  }

  finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#controller.close();
  }

  /** The peer reset the stream (or the session ended). */
  abort(error: WebTransportError): void {
    if (this.#done) return;
    this.#done = true;
    this.#controller.error(error);
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
