import { FrameCodec, protoLimits } from '@pulse/proto';
import { TokenIssuer } from './auth/tokens.ts';
import { type SignatureVerifier, safeVerifier } from './auth/verifier.ts';
import { channelLogBudget } from './channels/log-budget.ts';
import { MemoryChannelLog } from './channels/memory-log.ts';
import { ChannelRegistry } from './channels/registry.ts';
import { CommitQueue } from './commit-queue.ts';
import type { ConnectionAcceptor } from './connection.ts';
import type { RouterContext } from './context.ts';
import { purgeExpired } from './expiry.ts';
import { guardedScheduler } from './guarded-scheduler.ts';
import { DeviceHub } from './hub.ts';
import { Budgets } from './limits/budgets.ts';
import { KeyedBuckets } from './limits/token-bucket.ts';
import { PendingLinks } from './links.ts';
import { queueCapsOf } from './policy/queue.ts';
import type { ChannelLog } from './ports/channel-log.ts';
import type { Clock } from './ports/clock.ts';
import { type DeviceBus, singleNodeBus } from './ports/device-bus.ts';
import { type LinkDirectory, MemoryLinkDirectory } from './ports/link-directory.ts';
import type { Logger } from './ports/logger.ts';
import type { MacKeyring, MessageAuthenticator } from './ports/mac.ts';
import type { Metrics } from './ports/metrics.ts';
import type { PresenceShare } from './ports/presence-share.ts';
import { type RandomSource, randomHex } from './ports/random.ts';
import type { Cancel, Scheduler } from './ports/scheduler.ts';
import type { SealedSenderAuthority } from './ports/sealed-sender.ts';
import { Router } from './router.ts';
import { AnonymousSenders } from './session/anonymous-senders.ts';
import type { CoreSettings } from './settings.ts';
import { type Store, StoreUnavailable } from './store.ts';

/** Everything the core is given: its settings and one implementation of each port. */
export interface CorePorts {
  readonly settings: CoreSettings;
  readonly store: Store;
  /** Channel history (SQLite, JetStream in cluster mode); default: in memory, lost on restart. */
  readonly channelLog?: ChannelLog;
  /** Presence across nodes (cluster mode: NATS KV); default: this node's subscribers only. */
  readonly presence?: PresenceShare;
  /** XEdDSA verification (production: @pulse/crypto's xeddsaVerify). */
  readonly verify: SignatureVerifier;
  /** MAC of access tokens: the server's token keys (a single MAC is key id 0). */
  readonly mac: MacKeyring | MessageAuthenticator;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly scheduler: Scheduler;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** Between the nodes of a cluster (edge/cluster/: NATS); default singleNodeBus, one node alone. */
  readonly bus?: DeviceBus;
  /** Pending links every node sees (edge/cluster/: NATS KV); default in memory, one node alone. */
  readonly links?: LinkDirectory;
  /** Sealed sender (edge/sealed-sender-keys.ts); absent: its requests answer UNAVAILABLE. */
  readonly sealedSender?: SealedSenderAuthority | undefined;
}

/**
 * The Pulse server without I/O: router, sessions, request handlers, delivery,
 * channels, presence and the rules, wired over the ports it is given. Whoever
 * runs it hands it connections (`accept`) and calls `start` for its timers;
 * edge/node.ts does so with SQLite, prom-client, pino and Node's timers.
 */
export class PulseCore {
  readonly #ctx: RouterContext;
  readonly #router: Router;
  #timers: Cancel[] = [];
  /** The purge running now, if any: the timer does not start a second one beside it. */
  #purging: Promise<void> | undefined;

  constructor(ports: CorePorts) {
    const { settings } = ports;
    const { limits } = settings;
    const codec = new FrameCodec(
      protoLimits({ maxFrameBytes: limits.maxFrameBytes, maxPayloadBytes: limits.maxFrameBytes }),
    );
    const channels = new ChannelRegistry(codec, {
      log: ports.channelLog ?? new MemoryChannelLog(channelLogBudget(limits), ports.random),
      historySize: limits.historySize,
      maxChannelsTotal: limits.maxChannelsTotal,
      maxChannelsPerAccount: limits.maxChannelsPerAccount,
      presence: ports.presence,
    });
    channels.onActiveChange = (transport, delta) => ports.metrics.channelsActive(transport, delta);
    // Every timer task of the core runs guarded: a store error in one is logged, never thrown into the event loop.
    const scheduler = guardedScheduler(ports.scheduler, ports.log);
    this.#ctx = {
      settings,
      codec,
      store: ports.store,
      commits: new CommitQueue(ports.store, scheduler, queueCapsOf(limits)),
      verify: safeVerifier(ports.verify),
      tokens: new TokenIssuer(ports.mac),
      channels,
      hub: new DeviceHub({
        bus: ports.bus ?? singleNodeBus,
        nodeId: randomHex(ports.random, 8),
        clock: ports.clock,
        scheduler,
        log: ports.log,
      }),
      links: new PendingLinks(limits, ports.links ?? new MemoryLinkDirectory(), (error: unknown) =>
        ports.log.info({ err: error }, 'pending link not removed (it expires)'),
      ),
      metrics: ports.metrics,
      log: ports.log,
      clock: ports.clock,
      random: ports.random,
      scheduler,
      authBuckets: new KeyedBuckets(limits.authAttempts / 60, limits.authAttempts),
      fetchBuckets: new KeyedBuckets(limits.prekeyFetches / 60, limits.prekeyFetches),
      budgets: new Budgets(limits),
      anonymous: new AnonymousSenders(limits),
      sealedSender: ports.sealedSender,
    };
    this.#router = new Router(this.#ctx);
  }

  /** Hands a connection from any transport (or an in-memory one) to the router. */
  get accept(): ConnectionAcceptor {
    return this.#router.accept;
  }

  get sessionCount(): number {
    return this.#router.sessionCount;
  }

  /** Starts the heartbeat ticker and the expiry purge (purging once now). */
  start(): void {
    if (this.#timers.length > 0) return;
    const { scheduler } = this.#ctx;
    this.#timers.push(scheduler.every(this.#router.tickPeriod, () => this.tick()));
    this.#timers.push(scheduler.every(this.#ctx.settings.purgeIntervalMs, () => void this.purgeExpired()));
    void this.purgeExpired();
  }

  /** One heartbeat round now (the ticker calls it; tests on a fake clock may too). */
  tick(): void {
    const now = this.#ctx.clock.now();
    this.#router.tick(now);
    // A link whose device left ends for the other nodes too (PendingLinks).
    this.#ctx.links.sweep(now);
  }

  /**
   * Deletes expired envelopes now and tells their online senders (the purge
   * timer calls it). A store failure is logged; the next purge tries again.
   */
  purgeExpired(): Promise<void> {
    this.#purging ??= purgeExpired(this.#ctx)
      .catch((error: unknown) => {
        // An unreachable store (cluster mode, NATS down) is reported by the store itself; the next purge tries again.
        if (error instanceof StoreUnavailable) this.#ctx.log.info({ reason: error.message }, 'expiry purge skipped');
        else this.#ctx.log.error({ err: error }, 'expiry purge failed');
      })
      .finally(() => {
        this.#purging = undefined;
      });
    return this.#purging;
  }

  /**
   * Stops accepting, tells every session SERVER_SHUTDOWN, stops the timers and
   * commits what the group commit holds (settling once it is stored). The
   * store stays open (its owner closes it).
   */
  async shutdown(): Promise<void> {
    for (const cancel of this.#timers) cancel();
    this.#timers = [];
    this.#router.closeAll();
    await this.#ctx.commits.flush();
    await this.#purging;
  }
}
