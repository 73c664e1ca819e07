/**
 * The bytes held in frames received in part, over every connection: each
 * connection may hold up to `max_frame_bytes` while a frame arrives, so without
 * a total, many slow senders that never finish a frame would hold that much each
 * (`[server] partial_frame_bytes`, issue 11). A connection whose partial frame
 * would take the total past the budget is closed (SERVER_BUSY); a connection
 * that completes its frames holds nothing.
 */
export class PartialFrameBudget {
  readonly #max: number;
  readonly #held = new Map<object, number>();
  #total = 0;

  constructor(maxBytes: number) {
    this.#max = maxBytes;
  }

  /** Bytes held in partial frames now, over all connections. */
  get total(): number {
    return this.#total;
  }

  /** Records that `connection` now holds `bytes` of an unfinished frame; false when that exceeds the budget. */
  set(connection: object, bytes: number): boolean {
    const before = this.#held.get(connection) ?? 0;
    if (bytes > before && this.#total - before + bytes > this.#max) return false;
    this.#total += bytes - before;
    if (bytes === 0) this.#held.delete(connection);
    else this.#held.set(connection, bytes);
    return true;
  }

  /** The connection is gone: what it held is free. */
  release(connection: object): void {
    this.set(connection, 0);
  }
}
