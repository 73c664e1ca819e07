import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import type { SignatureVerifier } from '../core/auth/verifier.ts';
import type { ConnectionAcceptor } from '../core/connection.ts';
import { PulseCore } from '../core/pulse-core.ts';
import { DEFAULT_PURGE_INTERVAL_MS } from '../core/settings.ts';
import type { Store } from '../core/store.ts';
import type { ServerConfig } from './config/config.ts';
import { PrometheusMetrics } from './metrics.ts';
import { nodeRandom, nodeScheduler, systemClock } from './ports.ts';
import { hmacSha256, loadOrCreateSecret } from './secret.ts';
import { SqliteStore } from './storage/sqlite-store.ts';

export interface PulseNodeOptions {
  /** `limits`, `heartbeat`, `storage.path` (database and server secret) and `log.level` are used. */
  readonly config: ServerConfig;
  /** XEdDSA verification (production: @pulse/crypto's xeddsaVerify). */
  readonly verify: SignatureVerifier;
  readonly logger?: Logger;
  /** Replaces the SQLite store under `[storage] path` (tests of other stores). */
  readonly store?: Store;
  /** Wall-clock milliseconds (default Date.now; tests may pass a fake clock). */
  readonly now?: () => number;
  /** How often expired envelopes are purged (default one minute). */
  readonly purgeIntervalMs?: number;
}

/**
 * A Pulse server without listeners: the core on Node's implementations of its
 * ports (SQLite store, prom-client metrics, pino, Node's timers and crypto, the
 * server secret in the data directory). Connections come in through `accept`,
 * from PulseServer's WebSocket and WebTransport listeners or from an in-process
 * harness with in-memory connections (@pulse/testing).
 */
export class PulseNode {
  readonly config: ServerConfig;
  readonly metrics = new PrometheusMetrics();
  readonly log: Logger;
  readonly #store: Store;
  readonly #core: PulseCore;
  #closed = false;

  constructor(options: PulseNodeOptions) {
    const { config } = options;
    this.config = config;
    this.log = options.logger ?? pino({ level: config.log.level, base: { service: 'pulse' } });
    this.#store = options.store ?? new SqliteStore(join(config.storage.path, 'pulse.db'));
    this.#core = new PulseCore({
      settings: {
        limits: config.limits,
        heartbeat: config.heartbeat,
        purgeIntervalMs: options.purgeIntervalMs ?? DEFAULT_PURGE_INTERVAL_MS,
      },
      store: this.#store,
      verify: options.verify,
      mac: hmacSha256(loadOrCreateSecret(config.storage.path)),
      clock: systemClock(options.now),
      random: nodeRandom,
      scheduler: nodeScheduler,
      metrics: this.metrics,
      log: this.log,
    });
  }

  /** Hands a connection to the router; undefined: refused (already closed with SERVER_BUSY or SERVER_SHUTDOWN). */
  get accept(): ConnectionAcceptor {
    return this.#core.accept;
  }

  get sessionCount(): number {
    return this.#core.sessionCount;
  }

  /** Starts the heartbeats and the expiry purge. */
  start(): void {
    this.#core.start();
  }

  /** One heartbeat round now (tests on a fake clock). */
  tick(): void {
    this.#core.tick();
  }

  /** Purges expired envelopes now (tests on a fake clock). */
  purgeExpired(): void {
    this.#core.purgeExpired();
  }

  /** Stops accepting and closes every session with SERVER_SHUTDOWN (the transports may still drain). */
  closeSessions(): void {
    this.#core.shutdown();
  }

  /** Closes every session, commits what is pending, and closes the store. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#core.shutdown();
    this.#store.close();
  }
}
