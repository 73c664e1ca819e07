import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { FrameCodec, protoLimits } from '@pulse/proto';
import pino, { type Logger } from 'pino';
import { loadOrCreateSecret, TokenIssuer } from '../core/auth/tokens.ts';
import { type SignatureVerifier, safeVerifier } from '../core/auth/verifier.ts';
import { ChannelRegistry } from '../core/channels/registry.ts';
import { CommitQueue } from '../core/commit-queue.ts';
import type { ConnectionAcceptor, TransportServer } from '../core/connection.ts';
import type { RouterContext } from '../core/context.ts';
import { DeviceHub } from '../core/hub.ts';
import { KeyedBuckets } from '../core/limits/token-bucket.ts';
import { Router } from '../core/router.ts';
import type { Store } from '../core/store.ts';
import type { ServerConfig } from './config/config.ts';
import { httpHandler, type InfoSource, WEBTRANSPORT_PATH } from './http/routes.ts';
import { WebClient } from './http/web-client.ts';
import { Metrics } from './metrics.ts';
import { SqliteStore } from './storage/sqlite-store.ts';
import { attachWebSocket } from './transport/websocket.ts';
import { type ListenWebTransport, listenPulseWebTransport } from './transport/webtransport.ts';

export interface Certificate {
  readonly certPem: string;
  readonly keyPem: string;
  readonly sha256: Uint8Array;
}

export interface PulseServerOptions {
  readonly config: ServerConfig;
  /** XEdDSA verification (production: @pulse/crypto's xeddsaVerify). */
  readonly verify: SignatureVerifier;
  readonly logger?: Logger;
  /** Replaces the SQLite store under `[storage] path` (tests of other stores). */
  readonly store?: Store;
  /** The HTTP/3 WebTransport listener and the certificate to use; absent: WebTransport stays off. */
  readonly webtransport?: { readonly listen: ListenWebTransport; readonly certificate: Certificate };
  readonly now?: () => number;
  /** How often expired envelopes are purged (tests shorten it). */
  readonly purgeIntervalMs?: number;
}

export interface ListeningInfo {
  readonly httpPort: number;
  readonly webtransportPort: number | undefined;
  readonly certificateSha256: Uint8Array | undefined;
}

/**
 * One Pulse server: HTTP (WebSocket, /pulse/info, /metrics, /healthz, web client)
 * on TCP, WebTransport on UDP, both feeding one Router over one Store.
 */
export class PulseServer {
  readonly config: ServerConfig;
  readonly metrics = new Metrics();
  readonly log: Logger;
  readonly #options: PulseServerOptions;
  readonly #store: Store;
  readonly #commits: CommitQueue;
  readonly #ctx: RouterContext;
  readonly #router: Router;
  readonly #http: HttpServer;
  readonly #web: WebClient;
  readonly #info: InfoSource;
  readonly #transports: TransportServer[] = [];
  #wtPort: number | undefined;
  #purgeTimer: NodeJS.Timeout | undefined;
  #draining = false;
  #stopped: Promise<void> | undefined;

  constructor(options: PulseServerOptions) {
    const { config } = options;
    this.#options = options;
    this.config = config;
    this.log = options.logger ?? pino({ level: config.log.level, base: { service: 'pulse' } });
    this.#store = options.store ?? new SqliteStore(join(config.storage.path, 'pulse.db'));
    this.#commits = new CommitQueue(this.#store);
    const now = options.now ?? Date.now;
    const codec = new FrameCodec(
      protoLimits({ maxFrameBytes: config.limits.maxFrameBytes, maxPayloadBytes: config.limits.maxFrameBytes }),
    );
    const channels = new ChannelRegistry(codec, {
      historySize: config.limits.historySize,
      maxChannelsTotal: config.limits.maxChannelsTotal,
      historyBytes: config.limits.historyBytes,
    });
    channels.onActiveChange = (transport, delta) =>
      delta > 0 ? this.metrics.channelsActive.inc({ transport }) : this.metrics.channelsActive.dec({ transport });
    const ctx: RouterContext = {
      config,
      codec,
      store: this.#store,
      commits: this.#commits,
      verify: safeVerifier(options.verify),
      tokens: new TokenIssuer(loadOrCreateSecret(config.storage.path)),
      channels,
      hub: new DeviceHub(),
      metrics: this.metrics,
      log: this.log,
      authBuckets: new KeyedBuckets(config.limits.authAttempts / 60, config.limits.authAttempts),
      fetchBuckets: new KeyedBuckets(config.limits.prekeyFetches / 60, config.limits.prekeyFetches),
      now,
    };
    this.#ctx = ctx;
    this.#router = new Router(ctx);
    this.#web = new WebClient(config.web.root);
    this.#info = {
      websocket: config.transport.websocket,
      webtransport: undefined,
      maxFrameBytes: config.limits.maxFrameBytes,
      maxMessageSize: config.limits.maxMessageSize,
      draining: () => this.#draining,
    };
    this.#http = createServer(httpHandler(this.metrics, this.#web, this.#info));
    this.#http.on('connection', (socket) => socket.setNoDelay(true));
  }

  /**
   * Hands a connection from any transport to the router: the listeners use it, and so
   * do in-process harnesses that connect without sockets (@pulse/testing).
   */
  get accept(): ConnectionAcceptor {
    return this.#router.accept;
  }

  get sessionCount(): number {
    return this.#router.sessionCount;
  }

  async start(): Promise<ListeningInfo> {
    const { config } = this;
    await this.#web.build(config.web.entry, this.log);
    if (config.transport.websocket) {
      this.#transports.push(
        attachWebSocket(this.#http, { maxFrameBytes: config.limits.maxFrameBytes, accept: this.#router.accept }),
      );
    }
    await new Promise<void>((resolve, reject) => {
      this.#http.once('error', reject);
      this.#http.listen(config.server.port, config.server.host, () => {
        this.#http.off('error', reject);
        resolve();
      });
    });
    const httpPort = (this.#http.address() as AddressInfo).port;

    const wt = this.#options.webtransport;
    let certificateSha256: Uint8Array | undefined;
    if (config.transport.webtransport && wt !== undefined) {
      const server = await listenPulseWebTransport(wt.listen, {
        host: config.server.host,
        port: config.transport.webtransportPort,
        certificate: wt.certificate,
        path: WEBTRANSPORT_PATH,
        maxFrameBytes: config.limits.maxFrameBytes,
        streamTimeoutMs: config.heartbeat.timeout,
        accept: this.#router.accept,
      });
      this.#transports.push(server);
      this.#wtPort = server.port;
      certificateSha256 = wt.certificate.sha256;
      this.#info.webtransport = { port: server.port, certificateSha256 };
    }

    // Expired envelopes are removed every minute (they are never delivered anyway).
    this.#purgeTimer = setInterval(() => this.#purgeExpired(), this.#options.purgeIntervalMs ?? 60_000);
    this.#purgeTimer.unref();
    this.#purgeExpired();

    return { httpPort, webtransportPort: this.#wtPort, certificateSha256 };
  }

  /** Deletes expired envelopes and tells their online senders (ENVELOPE_EXPIRED, best effort). */
  #purgeExpired(): void {
    const ctx = this.#ctx;
    const expired = this.#store.purgeExpired(ctx.now());
    if (expired.length === 0) return;
    this.metrics.envelopesTotal.labels('expired').inc(expired.length);
    const bySender = new Map<string, { account: string; deviceId: number; lines: string[] }>();
    for (const envelope of expired) {
      const key = DeviceHub.key(envelope.from.account, envelope.from.deviceId);
      let entry = bySender.get(key);
      if (entry === undefined) {
        entry = { ...envelope.from, lines: [] };
        bySender.set(key, entry);
      }
      entry.lines.push(`${envelope.envelopeId} (to ${envelope.to.account}/${envelope.to.deviceId})`);
    }
    for (const { account, deviceId, lines } of bySender.values()) {
      const message = `expired undelivered: ${lines.join(', ')}`.slice(0, 1000);
      ctx.hub.get(account, deviceId)?.notify(ctx.codec.encode({ type: 'error', code: 'ENVELOPE_EXPIRED', message }));
    }
  }

  /**
   * Graceful stop (SIGTERM): stop accepting, tell every session SERVER_SHUTDOWN
   * (acknowledged envelopes are already committed), wait briefly for buffers to
   * drain, then close the listeners and the database.
   */
  stop(drainMs = 2_000): Promise<void> {
    this.#stopped ??= (async () => {
      this.#draining = true;
      for (const transport of this.#transports) await transport.stopAccepting();
      this.#router.closeAll();
      await Promise.all(this.#transports.map((transport) => transport.close(drainMs).catch(() => {})));
      this.#http.closeAllConnections();
      await new Promise<void>((resolve) => this.#http.close(() => resolve()));
      if (this.#purgeTimer !== undefined) clearInterval(this.#purgeTimer);
      this.#commits.flush();
      this.#store.close();
      this.log.info('stopped');
    })();
    return this.#stopped;
  }
}
