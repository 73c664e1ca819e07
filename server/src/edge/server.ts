import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FrameCodec, protoLimits } from '@pulse/proto';
import type { Logger } from 'pino';
import type { Connection, ConnectionAcceptor, TransportServer } from '../core/connection.ts';
import type { ServerConfig } from './config/config.ts';
import { listenMetrics, type MetricsListener } from './http/metrics-listener.ts';
import { httpHandler, type InfoSource, WEBTRANSPORT_PATH } from './http/routes.ts';
import { WebClient } from './http/web-client.ts';
import type { PrometheusMetrics } from './metrics.ts';
import { PulseNode, type PulseNodeOptions } from './node.ts';
import { addressGroup, TrustedProxies } from './transport/client-address.ts';
import { FloodPenaltyGate } from './transport/flood-penalty-gate.ts';
import { PartialFrameBudget } from './transport/partial-frames.ts';
import { UnauthenticatedGate } from './transport/unauthenticated-gate.ts';
import { attachWebSocket } from './transport/websocket.ts';
import { type ListenWebTransport, listenPulseWebTransport } from './transport/webtransport.ts';

export interface Certificate {
  readonly certPem: string;
  readonly keyPem: string;
  readonly sha256: Uint8Array;
}

export interface PulseServerOptions extends PulseNodeOptions {
  /** The HTTP/3 WebTransport listener and the certificate to use; absent: WebTransport stays off. */
  readonly webtransport?: { readonly listen: ListenWebTransport; readonly certificate: Certificate };
}

export interface ListeningInfo {
  readonly httpPort: number;
  readonly webtransportPort: number | undefined;
  readonly certificateSha256: Uint8Array | undefined;
  /** The metrics listener's port (`/metrics`, `/healthz`). */
  readonly metricsPort: number;
}

/**
 * One Pulse server: a PulseNode (core, store, timers) behind its listeners: HTTP
 * (WebSocket, /pulse/info, /metrics, /healthz, web client) on TCP, WebTransport
 * on UDP.
 */
export class PulseServer {
  readonly config: ServerConfig;
  readonly node: PulseNode;
  readonly #options: PulseServerOptions;
  readonly #http: HttpServer;
  readonly #web: WebClient;
  readonly #info: InfoSource;
  readonly #transports: TransportServer[] = [];
  /** Encodes the `close` frames the edge sends itself, and spots `auth_ok` for the gate. */
  readonly #codec: FrameCodec;
  /** Connections not authenticated yet: capped in total and per address (issue 11). */
  readonly #gate: UnauthenticatedGate;
  /** Addresses whose connection was closed for flooding: refused for `rate_penalty` (issue 11). */
  readonly #penalty: FloodPenaltyGate;
  /** Bytes of frames received in part, over every connection (issue 11). */
  readonly #partialFrames: PartialFrameBudget;
  #metricsListener: MetricsListener | undefined;
  #wtPort: number | undefined;
  #draining = false;
  #stopped: Promise<void> | undefined;

  constructor(options: PulseServerOptions) {
    const { config } = options;
    this.#options = options;
    this.config = config;
    this.node = new PulseNode(options);
    this.#web = new WebClient(config.web.root);
    this.#info = {
      websocket: config.transport.websocket,
      webtransport: undefined,
      maxFrameBytes: config.limits.maxFrameBytes,
      maxMessageSize: config.limits.maxMessageSize,
      sealedSenderTrustRoot: this.node.sealedSenderTrustRoot,
      draining: () => this.#draining,
      store: () => this.node.storeHealth(),
    };
    this.#codec = new FrameCodec(
      protoLimits({ maxFrameBytes: config.limits.maxFrameBytes, maxPayloadBytes: config.limits.maxFrameBytes }),
    );
    this.#gate = new UnauthenticatedGate(config.server, this.#codec, (connection, limit) =>
      this.node.metrics.limitHit(connection.transport, limit),
    );
    this.#penalty = new FloodPenaltyGate(
      config.limits,
      this.#codec,
      () => performance.now(),
      (connection) => this.node.metrics.limitHit(connection.transport, 'rate_penalty'),
    );
    this.#partialFrames = new PartialFrameBudget(config.server.partialFrameBytes);
    this.node.metrics.observeEdge(() => ({
      unauthenticated: this.#gate.count,
      partialFrameBytes: this.#partialFrames.total,
      penalisedAddresses: this.#penalty.size,
      penaltiesEvicted: this.#penalty.evicted,
    }));
    this.#http = createServer(httpHandler(this.#web, this.#info));
    this.#http.on('connection', (socket) => socket.setNoDelay(true));
  }

  get metrics(): PrometheusMetrics {
    return this.node.metrics;
  }

  get log(): Logger {
    return this.node.log;
  }

  /** A connection over an edge budget: `close SERVER_BUSY`, counted under `limit`. */
  #busy(connection: Connection, limit: string, reason: string): void {
    this.node.metrics.limitHit(connection.transport, limit);
    connection.send(this.#codec.encode({ type: 'close', code: 'SERVER_BUSY', reason }));
    connection.close('SERVER_BUSY', reason);
  }

  /**
   * Hands a connection from any transport to the router: the listeners use it, and so
   * do in-process harnesses that connect without sockets (@pulse/testing).
   */
  get accept(): ConnectionAcceptor {
    return this.node.accept;
  }

  get sessionCount(): number {
    return this.node.sessionCount;
  }

  async start(): Promise<ListeningInfo> {
    const { config } = this;
    await this.#web.build(config.web.entry, this.log);
    // A penalised flooder is refused first, before it counts as unauthenticated.
    const accept = this.#penalty.wrap(this.#gate.wrap(this.node.accept));
    const overBudget = (connection: Connection) =>
      this.#busy(connection, 'partial_frame_bytes', 'the server holds too many unfinished frames');
    if (config.transport.websocket) {
      const proxies = new TrustedProxies(config.server.trustedProxies);
      this.#transports.push(
        attachWebSocket(this.#http, {
          maxFrameBytes: config.limits.maxFrameBytes,
          accept,
          clientAddress: (request) =>
            addressGroup(proxies.clientAddress(request.socket.remoteAddress ?? '', request.headers['x-forwarded-for'])),
          partialFrames: this.#partialFrames,
          onOverBudget: overBudget,
          readPacing: {
            limits: config.limits,
            onPaused: (connection) => this.node.metrics.limitHit(connection.transport, 'rate_bytes_read'),
          },
        }),
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
        accept,
        limits: { maxConnections: config.quic.maxConnections },
        admission: {
          maxHandshakes: config.quic.maxHandshakes,
          maxHandshakesPerSource: config.quic.maxHandshakesPerSource,
          handshakeTimeoutMs: config.quic.handshakeTimeout,
          retryAbove: config.quic.retryAbove,
        },
        addressKey: addressGroup,
        partialFrames: this.#partialFrames,
        onOverBudget: overBudget,
      });
      this.#transports.push(server);
      this.node.metrics.observeWebTransportReceive(() => server.receiveStats);
      this.node.metrics.observeQuicHandshakes(() => server.handshakeStats);
      this.#wtPort = server.port;
      certificateSha256 = wt.certificate.sha256;
      this.#info.webtransport = { port: server.port, certificateSha256 };
    }

    this.#metricsListener = await listenMetrics(config.metrics, this.node.metrics, this.#info);

    // Heartbeats, and expired envelopes removed every minute (they are never delivered anyway).
    this.node.start();

    return { httpPort, webtransportPort: this.#wtPort, certificateSha256, metricsPort: this.#metricsListener.port };
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
      await this.node.closeSessions();
      await Promise.all(this.#transports.map((transport) => transport.close(drainMs).catch(() => {})));
      this.#http.closeAllConnections();
      await new Promise<void>((resolve) => this.#http.close(() => resolve()));
      await this.#metricsListener?.close();
      await this.node.close();
      this.log.info('stopped');
    })();
    return this.#stopped;
  }
}
