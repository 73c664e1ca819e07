import type { Frame, FrameCodec, FrameOf } from '@pulse/proto';
import type { Connection } from '../connection.ts';
import type { Metrics, Traffic } from '../ports/metrics.ts';
import type { SessionOutput } from './output.ts';

/**
 * One connection's bounded send queue: everything a session sends goes through
 * it. Beyond `sendQueueBytes` buffered towards the peer, ephemeral events
 * (presence) are dropped and anything else overflows (the session closes with
 * SLOW_CONSUMER): a reader that stops reading never grows the server's memory.
 */
export class SendQueue implements SessionOutput {
  readonly #conn: Connection;
  readonly #codec: FrameCodec;
  readonly #metrics: Metrics;
  readonly #traffic: Traffic;
  readonly #maxBytes: number;
  readonly #onOverflow: () => void;
  #open = true;

  constructor(
    conn: Connection,
    options: { codec: FrameCodec; metrics: Metrics; sendQueueBytes: number; onOverflow: () => void },
  ) {
    this.#conn = conn;
    this.#codec = options.codec;
    this.#metrics = options.metrics;
    this.#traffic = options.metrics.traffic(conn.transport);
    this.#maxBytes = options.sendQueueBytes;
    this.#onOverflow = options.onOverflow;
  }

  send(frame: Frame): void {
    this.sendBytes(this.#codec.encode(frame), false);
  }

  sendBytes(bytes: Uint8Array, ephemeral: boolean): void {
    if (!this.#open) return;
    if (this.#conn.bufferedAmount + bytes.length > this.#maxBytes) {
      if (ephemeral) {
        this.#metrics.eventDropped(this.#conn.transport);
        return;
      }
      this.limitHit('send_queue');
      this.#onOverflow();
      return;
    }
    this.#traffic.framesOut++;
    this.#traffic.bytesOut += bytes.length;
    this.#conn.send(bytes);
  }

  sendError(id: number | undefined, code: string, message: string, retryAfterMs?: number): void {
    this.#metrics.errorSent(this.#conn.transport, code);
    const frame: FrameOf<'error'> = { type: 'error', code, message: message.slice(0, 500) };
    if (id !== undefined) frame.id = id;
    if (retryAfterMs !== undefined) frame.retryAfterMs = retryAfterMs;
    this.send(frame);
  }

  limitHit(limit: string): void {
    this.#metrics.limitHit(this.#conn.transport, limit);
  }

  /** The last frame: a `close` is never refused by the queue limit. Nothing is sent after it. */
  sendClose(code: string, reason: string): void {
    if (!this.#open) return;
    this.#conn.send(this.#codec.encode({ type: 'close', code, reason: reason.slice(0, 500) }));
    this.stop();
  }

  /** Sends nothing more (the session ended). */
  stop(): void {
    this.#open = false;
  }
}
