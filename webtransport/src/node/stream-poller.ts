/**
 * Finds the QUIC streams that have bytes for us after each input. quiche's
 * readable() iterator costs tens of microseconds through the napi binding, so
 * one cheap isReadable() call comes first, the stream that had bytes last time
 * is tried next, known streams are polled with streamReadable(), new peer
 * streams are found by probing the next stream ids in order, and the iterator
 * is the fallback for the rare rest (streams that arrived out of order).
 */
import type { Role } from '../h3/stream-ids.ts';
import { isLocallyInitiated } from '../h3/stream-ids.ts';
import type { Connection } from './quiche-config.ts';

/** Reads one stream; returns false when its bytes stay in QUIC because nobody wants them yet. */
export type ReadStream = (streamId: number) => boolean;

export class StreamPoller {
  readonly #quic: Connection;
  readonly #role: Role;
  /** Streams that may still carry bytes for us. */
  readonly #candidates = new Set<number>();
  /** Next peer-initiated stream id not yet seen, per direction (0 bidi, 1 uni). */
  readonly #nextPeerStream: [number, number];
  /** The stream that last had bytes for us: polled first. */
  #hot: number | undefined;

  constructor(quic: Connection, role: Role) {
    this.#quic = quic;
    this.#role = role;
    this.#nextPeerStream = role === 'server' ? [0, 2] : [1, 3];
  }

  /** The lowest peer bidirectional stream id not seen yet (for GOAWAY, RFC 9114 §5.2). */
  get nextPeerBidiStream(): number {
    return this.#nextPeerStream[0];
  }

  /** A stream we opened (or learnt of) that may receive bytes. */
  watch(streamId: number): void {
    this.#candidates.add(streamId);
  }

  /** Nothing more will be read from this stream. */
  unwatch(streamId: number): void {
    this.#candidates.delete(streamId);
  }

  /**
   * Calls `read` for every stream with bytes; `fullScan` also asks quiche's iterator (after timers).
   * Returns false when quiche said nothing is left to read: isReadable() covers received datagrams
   * too, so the caller can skip asking for them.
   */
  poll(read: ReadStream, fullScan: boolean): boolean {
    const quic = this.#quic;
    // Most packets after the handshake carry ACKs or one stream's bytes: one call tells whether any stream has bytes.
    if (!fullScan && !quic.isReadable()) return false;
    const hot = this.#hot;
    if (!fullScan && hot !== undefined && this.#candidates.has(hot) && quic.streamReadable(hot)) {
      if (read(hot) && !quic.isReadable()) return false;
    }
    for (const direction of [0, 1] as const) {
      let next = this.#nextPeerStream[direction];
      while (quic.streamReadable(next)) {
        this.#candidates.add(next);
        next += 4;
      }
      this.#nextPeerStream[direction] = next;
    }
    let paused = false;
    for (const streamId of this.#candidates) {
      if (!quic.streamReadable(streamId)) continue;
      if (read(streamId)) this.#hot = streamId;
      else paused = true;
    }
    if (fullScan || (!paused && quic.isReadable())) {
      for (const streamId of [...quic.readable()]) {
        if (this.#candidates.has(streamId)) continue;
        this.#candidates.add(streamId);
        const direction = (streamId & 0x2) === 0 ? 0 : 1;
        if (!isLocallyInitiated(streamId, this.#role) && streamId >= this.#nextPeerStream[direction]) {
          this.#nextPeerStream[direction] = streamId + 4;
        }
        read(streamId);
      }
    }
    return true;
  }
}
