import { type ConnectionAcceptor, type TransportKind, UNKNOWN_ADDRESS } from './connection.ts';
import type { RouterContext } from './context.ts';
import { Session } from './session.ts';

/**
 * Accepts connections from every transport into Sessions, enforcing the
 * connection limits, and drives heartbeats. It is the only place that knows
 * the set of live sessions.
 */
export class Router {
  readonly #ctx: RouterContext;
  readonly #sessions = new Set<Session>();
  readonly #perIp = new Map<string, number>();
  #ticker: NodeJS.Timeout | undefined;
  #accepting = true;

  constructor(ctx: RouterContext) {
    this.#ctx = ctx;
    const period = Math.max(50, Math.min(1_000, Math.floor(ctx.config.heartbeat.interval / 3)));
    this.#ticker = setInterval(() => this.tick(ctx.now()), period);
    this.#ticker.unref();
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  readonly accept: ConnectionAcceptor = (connection) => {
    const { metrics, config, codec } = this.#ctx;
    const transport: TransportKind = connection.transport;
    const ip = connection.remoteAddress;
    const refuse = (limit: string, reason: string) => {
      metrics.limitViolations.labels(transport, limit).inc();
      const code = this.#accepting ? 'SERVER_BUSY' : 'SERVER_SHUTDOWN';
      connection.send(codec.encode({ type: 'close', code, reason }));
      connection.close(code, reason);
      return undefined;
    };
    if (!this.#accepting) return refuse('shutdown', 'the server is shutting down');
    if (this.#sessions.size >= config.limits.maxConnections) return refuse('max_connections', 'too many connections');
    // A transport that cannot name the peer's address (see transport/webtransport.ts)
    // is limited only by the total.
    const knownIp = ip !== UNKNOWN_ADDRESS;
    const fromIp = this.#perIp.get(ip) ?? 0;
    if (knownIp && fromIp >= config.limits.maxConnectionsPerIp) {
      return refuse('max_connections_per_ip', 'too many connections from this address');
    }

    if (knownIp) this.#perIp.set(ip, fromIp + 1);
    const session = new Session(this.#ctx, connection);
    this.#sessions.add(session);
    metrics.connectionsTotal.labels(transport).inc();
    metrics.connectionsActive.labels(transport).inc();
    session.onEnded = () => {
      this.#sessions.delete(session);
      if (knownIp) {
        const left = (this.#perIp.get(ip) ?? 1) - 1;
        if (left <= 0) this.#perIp.delete(ip);
        else this.#perIp.set(ip, left);
      }
      metrics.connectionsActive.labels(transport).dec();
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
      onClose: () => guard('close', () => session.transportClosed()),
    };
  };

  tick(now: number): void {
    for (const session of this.#sessions) session.tick(now);
    if (now % 60_000 < 1_000) {
      this.#ctx.authBuckets.sweep(now);
      this.#ctx.fetchBuckets.sweep(now);
    }
  }

  /** Stops accepting and closes every session with SERVER_SHUTDOWN. */
  closeAll(): void {
    this.#accepting = false;
    if (this.#ticker !== undefined) clearInterval(this.#ticker);
    this.#ticker = undefined;
    for (const session of [...this.#sessions]) session.close('SERVER_SHUTDOWN', 'the server is shutting down');
  }
}
