import { type ConnectionAcceptor, type TransportKind, UNKNOWN_ADDRESS } from './connection.ts';
import type { RouterContext } from './context.ts';
import { Session } from './session/session.ts';

/**
 * Accepts connections from every transport into Sessions, enforcing the
 * connection limits, and drives heartbeats. It is the only place that knows
 * the set of live sessions.
 */
export class Router {
  readonly #ctx: RouterContext;
  readonly #sessions = new Set<Session>();
  readonly #perIp = new Map<string, number>();
  #accepting = true;

  constructor(ctx: RouterContext) {
    this.#ctx = ctx;
  }

  /** How often `tick` should run: often enough to ping within a third of the heartbeat interval. */
  get tickPeriod(): number {
    return Math.max(50, Math.min(1_000, Math.floor(this.#ctx.settings.heartbeat.interval / 3)));
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  readonly accept: ConnectionAcceptor = (connection) => {
    const { metrics, settings, codec } = this.#ctx;
    const transport: TransportKind = connection.transport;
    const ip = connection.remoteAddress;
    const refuse = (limit: string, reason: string) => {
      metrics.limitHit(transport, limit);
      const code = this.#accepting ? 'SERVER_BUSY' : 'SERVER_SHUTDOWN';
      connection.send(codec.encode({ type: 'close', code, reason }));
      connection.close(code, reason);
      return undefined;
    };
    if (!this.#accepting) return refuse('shutdown', 'the server is shutting down');
    if (this.#sessions.size >= settings.limits.maxConnections) return refuse('max_connections', 'too many connections');
    // A transport that cannot name the peer's address (see connection.ts UNKNOWN_ADDRESS)
    // is limited only by the total.
    const knownIp = ip !== UNKNOWN_ADDRESS;
    const fromIp = this.#perIp.get(ip) ?? 0;
    if (knownIp && fromIp >= settings.limits.maxConnectionsPerIp) {
      return refuse('max_connections_per_ip', 'too many connections from this address');
    }

    if (knownIp) this.#perIp.set(ip, fromIp + 1);
    const session = new Session(this.#ctx, connection);
    this.#sessions.add(session);
    metrics.connectionOpened(transport);
    session.onEnded = () => {
      this.#sessions.delete(session);
      if (knownIp) {
        const left = (this.#perIp.get(ip) ?? 1) - 1;
        if (left <= 0) this.#perIp.delete(ip);
        else this.#perIp.set(ip, left);
      }
      metrics.connectionClosed(transport);
    };
    // The last line of defence: a fault in one session closes that session, never the process.
    const guard = (what: string, fn: () => void) => {
      try {
        fn();
      } catch (error) {
        this.#ctx.log.error({ err: error, what }, 'session fault');
        try {
          session.close('INTERNAL', 'internal server error');
        } catch {
          // Nothing more to do for this connection.
        }
      }
    };
    return {
      onFrame: (bytes) => guard('frame', () => session.receive(bytes)),
      onFramingError: (error) => guard('framing', () => session.framingError(error)),
      onDatagram: (bytes) => guard('datagram', () => session.receiveDatagram(bytes)),
      onClose: () => guard('close', () => session.transportClosed()),
    };
  };

  /** Heartbeats of every session; now and then, forgets idle rate buckets. */
  tick(now: number): void {
    for (const session of this.#sessions) session.tick(now);
    if (now % 60_000 < 1_000) {
      this.#ctx.authBuckets.sweep(now);
      this.#ctx.fetchBuckets.sweep(now);
      this.#ctx.budgets.sweep(now);
      this.#ctx.anonymous.sweep(now);
    }
  }

  /** Stops accepting and closes every session with SERVER_SHUTDOWN. */
  closeAll(): void {
    this.#accepting = false;
    for (const session of [...this.#sessions]) session.close('SERVER_SHUTDOWN', 'the server is shutting down');
  }
}
