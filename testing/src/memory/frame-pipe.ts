/**
 * One direction of an in-memory connection. Frames stay whole and in order, and
 * each reaches the receiver on a later turn of the event loop (setImmediate), as
 * a socket's data events do: a sender never re-enters its peer's handler from
 * inside `send`. `bufferedAmount` counts the bytes accepted and not delivered yet.
 */
export class FramePipe {
  readonly #deliver: (frame: Uint8Array) => void;
  #queue: Uint8Array[] = [];
  #bufferedAmount = 0;
  #scheduled = false;
  #paused = false;
  #drained: (() => void) | undefined;

  constructor(deliver: (frame: Uint8Array) => void) {
    this.#deliver = deliver;
  }

  get bufferedAmount(): number {
    return this.#bufferedAmount;
  }

  /** Queues a copy of `frame`: the sender may reuse its buffer, as with a socket. */
  push(frame: Uint8Array): void {
    this.#queue.push(frame.slice());
    this.#bufferedAmount += frame.byteLength;
    this.#schedule();
  }

  /** Holds deliveries back (a receiver that stops reading); `bufferedAmount` grows meanwhile. */
  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#schedule();
  }

  /** Calls `then` on a later turn, once everything queued is delivered. Delivery resumes. */
  drain(then: () => void): void {
    this.#drained = then;
    this.resume();
  }

  /** Forgets what was not delivered (the connection is gone). */
  discard(): void {
    this.#queue = [];
    this.#bufferedAmount = 0;
    this.#drained = undefined;
  }

  #schedule(): void {
    if (this.#scheduled || this.#paused || (this.#queue.length === 0 && this.#drained === undefined)) return;
    this.#scheduled = true;
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#scheduled = false;
    // Only what was queued before this turn: frames the receiver's handler sends back wait for the next one.
    let due = this.#queue.length;
    while (due > 0 && !this.#paused && this.#queue.length > 0) {
      due -= 1;
      const frame = this.#queue.shift() as Uint8Array;
      this.#bufferedAmount -= frame.byteLength;
      this.#deliver(frame);
    }
    if (this.#queue.length > 0) this.#schedule();
    else this.#finishDrain();
  }

  #finishDrain(): void {
    const drained = this.#drained;
    this.#drained = undefined;
    drained?.();
  }
}
