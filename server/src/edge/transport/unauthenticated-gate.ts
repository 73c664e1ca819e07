/**
 * A cap on connections that have not authenticated yet, in total and per
 * address group (edge/transport/client-address.ts): each costs a session, a
 * challenge and a heartbeat until it authenticates or times out, and proves
 * nothing, so these are what a flood is made of (issue 11). Authenticated
 * connections are bounded by the core's `max_connections` (per IP and total).
 *
 * It wraps the core's acceptor: a connection counts from `accept` until the
 * server sends it `auth_ok` (seen on the way out: only the few frames before
 * it are decoded) or an anonymous `welcome` (an anonymous connection has
 * bounds of its own in the core: core/session/anonymous-senders.ts), or until
 * it closes. Beyond a cap, it gets `close SERVER_BUSY`.
 */
import type { FrameCodec } from '@pulse/proto';
import {
  type Connection,
  type ConnectionAcceptor,
  type ConnectionHandler,
  UNKNOWN_ADDRESS,
} from '../../core/connection.ts';
import { ForwardingConnection } from './forwarding-connection.ts';

export interface UnauthenticatedLimits {
  readonly maxUnauthenticated: number;
  readonly maxUnauthenticatedPerIp: number;
}

export class UnauthenticatedGate {
  readonly #limits: UnauthenticatedLimits;
  readonly #codec: FrameCodec;
  readonly #onLimit: (connection: Connection, limit: string) => void;
  readonly #perAddress = new Map<string, number>();
  #total = 0;

  constructor(
    limits: UnauthenticatedLimits,
    codec: FrameCodec,
    onLimit: (connection: Connection, limit: string) => void,
  ) {
    this.#limits = limits;
    this.#codec = codec;
    this.#onLimit = onLimit;
  }

  /** Connections that have not authenticated, now. */
  get count(): number {
    return this.#total;
  }

  /** The acceptor to hand the transports: `inner` behind the caps. */
  wrap(inner: ConnectionAcceptor): ConnectionAcceptor {
    return (connection) => {
      const address = connection.remoteAddress;
      const limit =
        this.#total >= this.#limits.maxUnauthenticated
          ? 'max_unauthenticated'
          : address !== UNKNOWN_ADDRESS && (this.#perAddress.get(address) ?? 0) >= this.#limits.maxUnauthenticatedPerIp
            ? 'max_unauthenticated_per_ip'
            : undefined;
      if (limit !== undefined) {
        this.#onLimit(connection, limit);
        const reason = 'too many connections waiting to authenticate';
        connection.send(this.#codec.encode({ type: 'close', code: 'SERVER_BUSY', reason }));
        connection.close('SERVER_BUSY', reason);
        return undefined;
      }
      const done = this.#count(address);
      const handler = inner(new WatchedConnection(connection, this.#codec, done));
      if (handler === undefined) {
        done();
        return undefined;
      }
      return withClose(handler, done);
    };
  }

  /** Counts one connection from `address`; the returned function uncounts it, once. */
  #count(address: string): () => void {
    this.#total += 1;
    this.#perAddress.set(address, (this.#perAddress.get(address) ?? 0) + 1);
    let counted = true;
    return () => {
      if (!counted) return;
      counted = false;
      this.#total -= 1;
      const left = (this.#perAddress.get(address) ?? 1) - 1;
      if (left <= 0) this.#perAddress.delete(address);
      else this.#perAddress.set(address, left);
    };
  }
}

function withClose(handler: ConnectionHandler, done: () => void): ConnectionHandler {
  return {
    onFrame: (bytes) => handler.onFrame(bytes),
    onFramingError: (error) => handler.onFramingError(error),
    onDatagram: (bytes) => handler.onDatagram?.(bytes),
    onClose: () => {
      done();
      handler.onClose();
    },
  };
}

/**
 * The connection as the core sees it; watches outgoing frames until the connection
 * leaves the unauthenticated budget: `auth_ok`, or a `welcome` that grants an
 * anonymous (sealed-send only) connection, which has bounds of its own.
 */
class WatchedConnection extends ForwardingConnection {
  readonly #codec: FrameCodec;
  #authenticated: (() => void) | undefined;

  constructor(inner: Connection, codec: FrameCodec, authenticated: () => void) {
    super(inner);
    this.#codec = codec;
    this.#authenticated = authenticated;
  }

  override send(frame: Uint8Array): void {
    if (this.#authenticated !== undefined && this.#leavesTheGate(frame)) {
      this.#authenticated();
      this.#authenticated = undefined;
    }
    super.send(frame);
  }

  #leavesTheGate(frame: Uint8Array): boolean {
    try {
      const decoded = this.#codec.decode(frame);
      return decoded.type === 'auth_ok' || (decoded.type === 'welcome' && decoded.anonymous === true);
    } catch {
      return false;
    }
  }
}
