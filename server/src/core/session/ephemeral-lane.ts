import type { FrameCodec, FrameOf } from '@pulse/proto';
import type { Connection } from '../connection.ts';
import { TokenBucket } from '../limits/token-bucket.ts';
import type { Metrics, Traffic } from '../ports/metrics.ts';
import type { SessionOutput } from './output.ts';

/** The per-connection budget a `send_ephemeral` handler charges (requests/ephemeral.ts). */
export interface EphemeralBudget {
  /** Takes `envelopes` from the budget: false when over it (the caller drops them and counts). */
  admit(envelopes: number, now: number): boolean;
}

/**
 * One connection's ephemeral traffic (PROTOCOL.md "Ephemeral events"): the
 * budget of envelopes it may have relayed (`ephemeral_rate` per second,
 * `ephemeral_burst` at once), the frames it receives in datagrams, and the way
 * `ephemeral` frames go out to it: in a datagram when the transport has them
 * and the frame fits one, else on the stream as an event the send queue drops
 * when full (as presence is). Nothing here ever waits for the store.
 */
export class EphemeralLane implements EphemeralBudget {
  readonly #conn: Connection;
  readonly #codec: FrameCodec;
  readonly #metrics: Metrics;
  readonly #traffic: Traffic;
  readonly #out: SessionOutput;
  readonly #budget: TokenBucket;

  constructor(
    conn: Connection,
    out: SessionOutput,
    options: { codec: FrameCodec; metrics: Metrics; rate: number; burst: number; now: number },
  ) {
    this.#conn = conn;
    this.#out = out;
    this.#codec = options.codec;
    this.#metrics = options.metrics;
    this.#traffic = options.metrics.traffic(conn.transport);
    this.#budget = new TokenBucket(options.rate, options.burst, options.now);
  }

  admit(envelopes: number, now: number): boolean {
    return this.#budget.take(now, envelopes) === 0;
  }

  /** Sends an encoded `ephemeral` frame to this connection's peer; never closes the session. */
  send(bytes: Uint8Array): void {
    const transport = this.#conn.transport;
    if (this.#conn.sendDatagram !== undefined) {
      if (this.#conn.sendDatagram(bytes)) {
        this.#metrics.ephemeral(transport, 'datagram_out');
        this.#traffic.framesOut++;
        this.#traffic.bytesOut += bytes.length;
        return;
      }
      // Too large for a datagram on this path: the stream carries it (PROTOCOL.md "Ephemeral events").
      this.#metrics.ephemeral(transport, 'datagram_too_large');
    }
    this.#out.sendBytes(bytes, true);
  }

  /**
   * A datagram's bytes as the one `send_ephemeral` frame it may carry, or
   * undefined: a datagram that does not decode, or carries any other frame
   * type, is dropped and counted (`datagram_frame`), never answered: an error
   * for each would hand a flood of datagrams a reliable echo on the stream.
   */
  decodeDatagram(bytes: Uint8Array): FrameOf<'send_ephemeral'> | undefined {
    let frame: ReturnType<FrameCodec['decode']>;
    try {
      frame = this.#codec.decode(bytes);
    } catch {
      this.#out.limitHit('datagram_frame');
      return undefined;
    }
    // The one frame a client may put in a datagram (proto's DATAGRAM_FRAME_TYPES, client to server).
    if (frame.type !== 'send_ephemeral') {
      this.#out.limitHit('datagram_frame');
      return undefined;
    }
    this.#metrics.ephemeral(this.#conn.transport, 'datagram_in');
    return frame;
  }
}
