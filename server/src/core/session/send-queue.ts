import type { Frame, FrameCodec, FrameOf } from '@pulse/proto';
import type { Connection } from '../connection.ts';
import type { Metrics, Traffic } from '../ports/metrics.ts';
import type { SessionOutput } from './output.ts';

/** How soon bulk sends paused by a full buffer look again (the transports have no drain event). */
export const BULK_RETRY_MS = 10;

/**
 * One connection's bounded send queue: everything a session sends goes through
 * it. Beyond `sendQueueBytes` buffered towards the peer, ephemeral events
 * (presence) are dropped and anything else overflows (the session closes with
 * SLOW_CONSUMER): a reader that stops reading never grows the server's memory.
 *
 * Bulk sends (the stored backlog, channel replay) are paced instead of pushed
 * (`offerBulk`): they fill at most half the queue, leaving the other half for
 * answers and live traffic, so catching up is never a reason to disconnect a
 * reader, however large the backlog (issue 11, "locked out of the inbox").
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

  /** Bytes of bulk sends the buffer takes now (0: wait for it to drain). */
  bulkRoom(): number {
    if (!this.#open) return 0;
    return Math.max(0, Math.floor(this.#maxBytes / 2) - this.#conn.bufferedAmount);
  }

  /**
   * Sends `bytes` if the bulk half of the queue holds them, else returns false
   * (the caller keeps its place and offers again later). An empty buffer takes
   * any frame, so a frame above half the queue still gets through.
   */
  offerBulk(bytes: Uint8Array): boolean {
    if (!this.#open) return false;
    const buffered = this.#conn.bufferedAmount;
    if (buffered > 0 && buffered + bytes.length > Math.floor(this.#maxBytes / 2)) return false;
    this.sendBytes(bytes, false);
    return this.#open;
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
