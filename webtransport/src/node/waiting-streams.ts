/**
 * WebTransport streams that arrived before their session was established
 * (draft-ietf-webtrans-http3-02 §4.6): kept, up to a limit per connection,
 * until the session is established or refused.
 */

export interface WaitingStream {
  readonly streamId: number;
  readonly bidirectional: boolean;
  /** Bytes read after the stream header. */
  readonly data: Uint8Array;
  readonly fin: boolean;
}

export class WaitingStreams {
  readonly #bySession = new Map<number, WaitingStream[]>();
  readonly #limit: number;
  #count = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Keeps a stream for its session; false when the limit is reached (the caller refuses the stream). */
  hold(sessionId: number, stream: WaitingStream): boolean {
    if (this.#count >= this.#limit) return false;
    const list = this.#bySession.get(sessionId);
    if (list === undefined) this.#bySession.set(sessionId, [stream]);
    else list.push(stream);
    this.#count++;
    return true;
  }

  /** Removes and returns the streams waiting for a session. */
  take(sessionId: number): WaitingStream[] {
    const list = this.#bySession.get(sessionId);
    if (list === undefined) return [];
    this.#bySession.delete(sessionId);
    this.#count -= list.length;
    return list;
  }
}
