import { FrameCodec, protoLimits } from '@pulse/proto';
import { TokenIssuer } from './auth/tokens.ts';
import { type SignatureVerifier, safeVerifier } from './auth/verifier.ts';
import { ChannelRegistry } from './channels/registry.ts';
import { CommitQueue } from './commit-queue.ts';
import type { ConnectionAcceptor } from './connection.ts';
import type { RouterContext } from './context.ts';
import { purgeExpired } from './expiry.ts';
import { DeviceHub } from './hub.ts';
import { KeyedBuckets } from './limits/token-bucket.ts';
import type { Clock } from './ports/clock.ts';
import type { Logger } from './ports/logger.ts';
import type { MessageAuthenticator } from './ports/mac.ts';
import type { Metrics } from './ports/metrics.ts';
import type { RandomSource } from './ports/random.ts';
import type { Cancel, Scheduler } from './ports/scheduler.ts';
import { Router } from './router.ts';
import type { CoreSettings } from './settings.ts';
import type { Store } from './store.ts';

/** Everything the core is given: its settings and one implementation of each port. */
export interface CorePorts {
  readonly settings: CoreSettings;
  readonly store: Store;
  /** XEdDSA verification (production: @pulse/crypto's xeddsaVerify). */
  readonly verify: SignatureVerifier;
  /** MAC of access tokens under the server secret. */
  readonly mac: MessageAuthenticator;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly scheduler: Scheduler;
  readonly metrics: Metrics;
  readonly log: Logger;
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

  constructor(ports: CorePorts) {
    const { settings } = ports;
    const { limits } = settings;
    const codec = new FrameCodec(
      protoLimits({ maxFrameBytes: limits.maxFrameBytes, maxPayloadBytes: limits.maxFrameBytes }),
    );
    const channels = new ChannelRegistry(codec, {
      historySize: limits.historySize,
      maxChannelsTotal: limits.maxChannelsTotal,
      historyBytes: limits.historyBytes,
      random: ports.random,
    });
    channels.onActiveChange = (transport, delta) => ports.metrics.channelsActive(transport, delta);
    this.#ctx = {
      settings,
      codec,
      store: ports.store,
      commits: new CommitQueue(ports.store, ports.scheduler, limits.queuePerDevice),
      verify: safeVerifier(ports.verify),
      tokens: new TokenIssuer(ports.mac),
      channels,
      hub: new DeviceHub(),
      metrics: ports.metrics,
      log: ports.log,
      clock: ports.clock,
      random: ports.random,
      scheduler: ports.scheduler,
      authBuckets: new KeyedBuckets(limits.authAttempts / 60, limits.authAttempts),
      fetchBuckets: new KeyedBuckets(limits.prekeyFetches / 60, limits.prekeyFetches),
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
    this.#timers.push(scheduler.every(this.#ctx.settings.purgeIntervalMs, () => this.purgeExpired()));
    this.purgeExpired();
  }

  /** One heartbeat round now (the ticker calls it; tests on a fake clock may too). */
  tick(): void {
    this.#router.tick(this.#ctx.clock.now());
  }

  /** Deletes expired envelopes now and tells their online senders (the purge timer calls it). */
  purgeExpired(): void {
    purgeExpired(this.#ctx);
  }

  /**
   * Stops accepting, tells every session SERVER_SHUTDOWN, stops the timers and
   * commits what the group commit holds. The store stays open (its owner closes it).
   */
  shutdown(): void {
    for (const cancel of this.#timers) cancel();
    this.#timers = [];
    this.#router.closeAll();
    this.#ctx.commits.flush();
  }
}
