import { FrameCodec, protoLimits } from '@pulse/proto';
import pino, { type Logger } from 'pino';
import type { SignatureVerifier } from '../core/auth/verifier.ts';
import type { ConnectionAcceptor } from '../core/connection.ts';
import type { ChannelLog } from '../core/ports/channel-log.ts';
import type { PresenceShare } from '../core/ports/presence-share.ts';
import { PulseCore } from '../core/pulse-core.ts';
import { DEFAULT_PURGE_INTERVAL_MS } from '../core/settings.ts';
import type { Store } from '../core/store.ts';
import { openPresence } from './cluster/channels/open-presence.ts';
import { NatsDeviceBus } from './cluster/nats-device-bus.ts';
import { NatsLinkDirectory } from './cluster/nats-link-directory.ts';
import { subjectKey } from './cluster/subject-key.ts';
import type { ServerConfig } from './config/config.ts';
import { PrometheusMetrics } from './metrics.ts';
import { nodeRandom, nodeScheduler, systemClock } from './ports.ts';
import { loadSealedSenderKeys, sealedSenderAuthority, sealedSenderKeysPath } from './sealed-sender-keys.ts';
import { hmacKeyring, loadTokenKeys, tokenKeysPath } from './secret.ts';
import { openChannelLog } from './storage/open-channel-log.ts';
import { openStore, type StoreHealth } from './storage/open-store.ts';

export interface PulseNodeOptions {
  /** `limits`, `heartbeat`, `storage.path` (database), `auth.token_keys` and `log.level` are used. */
  readonly config: ServerConfig;
  /** XEdDSA verification (production: @pulse/crypto's xeddsaVerify). */
  readonly verify: SignatureVerifier;
  readonly logger?: Logger;
  /** Replaces the store the configuration names (SQLite, or NATS in cluster mode): tests of other stores. */
  readonly store?: Store;
  /** Replaces the channel log (default: SQLite beside the configured store; in memory beside `store`). */
  readonly channelLog?: ChannelLog;
  /** Wall-clock milliseconds (default Date.now; tests may pass a fake clock). */
  readonly now?: () => number;
  /** How often expired envelopes are purged (default one minute). */
  readonly purgeIntervalMs?: number;
}

/**
 * A Pulse server without listeners: the core on Node's implementations of its
 * ports (SQLite store, or NATS JetStream in cluster mode; prom-client metrics, pino, Node's timers and crypto, the
 * server secret in the data directory). Connections come in through `accept`,
 * from PulseServer's WebSocket and WebTransport listeners or from an in-process
 * harness with in-memory connections (@pulse/testing).
 */
export class PulseNode {
  readonly config: ServerConfig;
  readonly metrics = new PrometheusMetrics();
  readonly log: Logger;
  /** The sealed-sender trust root's public key (33 bytes), which `/pulse/info` publishes for clients to pin. */
  readonly sealedSenderTrustRoot: Uint8Array;
  readonly #store: Store;
  readonly #channelLog: ChannelLog | undefined;
  /** Cluster mode: presence across nodes. */
  readonly #presence: PresenceShare | undefined;
  readonly #storeHealth: () => StoreHealth;
  readonly #core: PulseCore;
  /** Cluster mode: how this node tells the others about devices (edge/cluster/). */
  readonly #bus: NatsDeviceBus | undefined;
  /** Cluster mode: pending links every node sees (edge/cluster/nats-link-directory.ts). */
  readonly #links: NatsLinkDirectory | undefined;
  #closed = false;

  constructor(options: PulseNodeOptions) {
    const { config } = options;
    this.config = config;
    this.log = options.logger ?? pino({ level: config.log.level, base: { service: 'pulse' } });
    if (options.store === undefined) {
      const opened = openStore(config, this.log);
      if (opened.writesInFlight !== undefined) this.metrics.observeStoreWrites(opened.writesInFlight);
      this.#store = opened.store;
      this.#storeHealth = () => opened.health();
    } else {
      const { store } = options;
      this.#store = store;
      this.#storeHealth = () => ({ available: true, detail: store.constructor.name });
    }
    if (config.cluster.nats.length > 0) {
      this.#bus = new NatsDeviceBus({
        servers: config.cluster.nats,
        subjectKey: subjectKey(config.cluster.subjectKey, 'pulse device subjects'),
        onMalformed: () => {
          this.metrics.clusterNotice('dropped', 'malformed');
          this.log.warn('cluster: malformed device notice dropped');
        },
        onOversized: (type) => {
          this.metrics.clusterNotice('dropped', type);
          this.log.warn({ type }, 'cluster: device notice too large, not sent');
        },
        onSent: (type) => this.metrics.clusterNotice('sent', type),
        onReceived: (type) => this.metrics.clusterNotice('received', type),
      });
      this.#links = new NatsLinkDirectory({
        servers: config.cluster.nats,
        replicas: config.cluster.replicas,
        linkTtlMs: config.limits.linkTtl,
        codec: new FrameCodec(
          protoLimits({ maxFrameBytes: config.limits.maxFrameBytes, maxPayloadBytes: config.limits.maxFrameBytes }),
        ),
        onMalformed: () => this.metrics.clusterNotice('dropped', 'malformed'),
        onSent: () => this.metrics.clusterNotice('sent', 'link_approved'),
        onReceived: () => this.metrics.clusterNotice('received', 'link_approved'),
      });
    }
    this.metrics.observeStore(() => this.#storeHealth().available);
    this.#channelLog =
      options.channelLog ??
      (options.store === undefined
        ? openChannelLog(config, (error) => this.log.error({ err: error }, 'channel follower stopped'))
        : undefined);
    this.#presence = openPresence(config, (error) => this.log.warn({ err: error }, 'cluster presence'));
    const sealedKeys = loadSealedSenderKeys(sealedSenderKeysPath(config, tokenKeysPath(config)));
    this.sealedSenderTrustRoot = sealedKeys.trustRoot;
    this.#core = new PulseCore({
      bus: this.#bus,
      links: this.#links,
      settings: {
        limits: config.limits,
        heartbeat: config.heartbeat,
        purgeIntervalMs: options.purgeIntervalMs ?? DEFAULT_PURGE_INTERVAL_MS,
      },
      store: this.#store,
      channelLog: this.#channelLog,
      presence: this.#presence,
      verify: options.verify,
      mac: hmacKeyring(loadTokenKeys(tokenKeysPath(config), Date.now(), config.limits.tokenTtl)),
      clock: systemClock(options.now),
      random: nodeRandom,
      scheduler: nodeScheduler,
      metrics: this.metrics,
      log: this.log,
      sealedSender: sealedSenderAuthority(sealedKeys, config.sealedSender.certificateTtl),
    });
  }

  /** Hands a connection to the router; undefined: refused (already closed with SERVER_BUSY or SERVER_SHUTDOWN). */
  get accept(): ConnectionAcceptor {
    return this.#core.accept;
  }

  get sessionCount(): number {
    return this.#core.sessionCount;
  }

  /** Whether the store can be used now (`/healthz`: a node whose NATS is gone says so). */
  storeHealth(): StoreHealth {
    return this.#storeHealth();
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
  purgeExpired(): Promise<void> {
    return this.#core.purgeExpired();
  }

  /**
   * Stops accepting and closes every session with SERVER_SHUTDOWN (the
   * transports may still drain); settles once the pending sends are stored.
   */
  closeSessions(): Promise<void> {
    return this.#core.shutdown();
  }

  /** Closes every session, commits what is pending, and closes the store. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#core.shutdown();
    await this.#bus?.close();
    await this.#links?.close();
    await this.#presence?.close();
    await this.#channelLog?.close();
    await this.#store.close();
  }
}
