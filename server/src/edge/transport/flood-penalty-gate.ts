/**
 * Keeps flooders out for a while (issue 11; README "Limits", `rate_penalty`):
 * wraps the acceptor so that
 * - a connection the core closes with `RATE_LIMITED` (it kept sending past its
 *   rate limits: `rate_refusals`) puts its address group in the penalty table;
 * - a new connection from a penalised address is refused at once, before it
 *   costs a session, an authentication or a token bucket: `error RATE_LIMITED`
 *   with `retryAfterMs` (the penalty left; no `id`), then `close RATE_LIMITED`
 *   (PROTOCOL.md `RATE_LIMITED`).
 * Connections already open from that address are left alone: each meets its own
 * rate limits.
 */
import type { FrameCodec } from '@pulse/proto';
import { type Connection, type ConnectionAcceptor, UNKNOWN_ADDRESS } from '../../core/connection.ts';
import { FloodPenalties } from './flood-penalties.ts';
import { ForwardingConnection } from './forwarding-connection.ts';

export interface FloodPenaltyLimits {
  /** Milliseconds an address stays refused after a flooding close (`rate_penalty`). */
  readonly ratePenalty: number;
  /** Addresses the penalty table holds at most (`rate_penalty_addresses`). */
  readonly ratePenaltyAddresses: number;
}

/** The close code of a connection closed for flooding (core/session/rate-refusals.ts). */
const FLOODING = 'RATE_LIMITED';

export class FloodPenaltyGate {
  readonly #penalties: FloodPenalties;
  readonly #codec: FrameCodec;
  readonly #now: () => number;
  readonly #onRefused: (connection: Connection) => void;

  constructor(
    limits: FloodPenaltyLimits,
    codec: FrameCodec,
    now: () => number,
    onRefused: (connection: Connection) => void,
  ) {
    this.#penalties = new FloodPenalties(limits.ratePenalty, limits.ratePenaltyAddresses);
    this.#codec = codec;
    this.#now = now;
    this.#onRefused = onRefused;
  }

  /** Addresses in the penalty table now (bounded by `rate_penalty_addresses`). */
  get size(): number {
    return this.#penalties.size;
  }

  /** Penalties forgotten early because the table was full. */
  get evicted(): number {
    return this.#penalties.evicted;
  }

  /** The acceptor to hand the transports: `inner` behind the penalty. */
  wrap(inner: ConnectionAcceptor): ConnectionAcceptor {
    return (connection) => {
      const address = connection.remoteAddress;
      // A transport that cannot name the peer (UNKNOWN_ADDRESS) is never penalised: that would shut out everyone.
      if (address === UNKNOWN_ADDRESS) return inner(connection);
      const left = this.#penalties.remaining(address, this.#now());
      if (left > 0) {
        this.#onRefused(connection);
        const message = 'this address flooded the server lately';
        connection.send(this.#codec.encode({ type: 'error', code: FLOODING, message, retryAfterMs: Math.ceil(left) }));
        connection.send(this.#codec.encode({ type: 'close', code: FLOODING, reason: message }));
        connection.close(FLOODING, message);
        return undefined;
      }
      return inner(new PenalisingConnection(connection, () => this.#penalties.penalise(address, this.#now())));
    };
  }
}

/** The connection as the core sees it; a close for flooding penalises its address. */
class PenalisingConnection extends ForwardingConnection {
  readonly #flooded: () => void;

  constructor(inner: Connection, flooded: () => void) {
    super(inner);
    this.#flooded = flooded;
  }

  override close(code: string, reason: string): void {
    if (code === FLOODING) this.#flooded();
    super.close(code, reason);
  }
}
