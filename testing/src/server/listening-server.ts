import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { xeddsaVerify } from '@pulse/crypto';
import { type Certificate, type PulseNode, PulseServer } from '@pulse/server';
import pino from 'pino';
import { type TestServerOptions, temporaryDirectory, testServerConfig } from './test-config.ts';

export interface ListeningServerOptions extends TestServerOptions {
  /** The web client to serve (`[web] root` and `entry`); default none (a short page). */
  readonly web?: { readonly root: string; readonly entry: string };
  /** WebTransport listens with this certificate (e.g. `createDevCertificate()`); default WebSocket only. */
  readonly certificate?: Certificate;
}

/**
 * The whole server (PulseServer: HTTP, WebSocket, WebTransport around a
 * PulseNode) in this process, listening on 127.0.0.1 on free ports, with a
 * fresh SQLite file in a temporary directory: real sockets, and the node at
 * hand for its metrics and session count.
 */
export class ListeningServer {
  readonly server: PulseServer;
  readonly httpPort: number;
  readonly webtransportPort: number | undefined;
  /** The metrics listener's port (`/metrics`, `/healthz` on 127.0.0.1). */
  readonly metricsPort: number;
  /** A temporary directory: the SQLite database and the server secret; removed by `stop`. */
  readonly dataDir: string;

  private constructor(
    server: PulseServer,
    ports: { http: number; webtransport: number | undefined; metrics: number },
    dataDir: string,
  ) {
    this.server = server;
    this.httpPort = ports.http;
    this.webtransportPort = ports.webtransport;
    this.metricsPort = ports.metrics;
    this.dataDir = dataDir;
  }

  static async start(options: ListeningServerOptions = {}): Promise<ListeningServer> {
    const dataDir = temporaryDirectory('listening');
    const config = testServerConfig(dataDir, options, {
      server: { host: '127.0.0.1', port: 0 },
      transport: { webtransportPort: 0 },
      web: options.web ?? { root: join(dataDir, 'no-web'), entry: '' },
    });
    const { certificate } = options;
    // Loaded only when asked for, as the server does: the native QUIC binding costs about a second.
    const webtransport =
      certificate === undefined
        ? undefined
        : { listen: (await import('@pulse/webtransport/node')).listenWebTransport, certificate };
    const server = new PulseServer({ config, verify: xeddsaVerify, logger: pino({ level: 'silent' }), webtransport });
    const listening = await server.start();
    const ports = {
      http: listening.httpPort,
      webtransport: listening.webtransportPort,
      metrics: listening.metricsPort,
    };
    return new ListeningServer(server, ports, dataDir);
  }

  get node(): PulseNode {
    return this.server.node;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  /** `/metrics` on the metrics listener. */
  get metricsUrl(): string {
    return `http://127.0.0.1:${this.metricsPort}/metrics`;
  }

  get websocketUrl(): string {
    return `ws://127.0.0.1:${this.httpPort}/pulse/ws`;
  }

  /** The WebTransport URL; only when started with a certificate. */
  get webtransportUrl(): string {
    if (this.webtransportPort === undefined) throw new Error('this server was started without WebTransport');
    return `https://127.0.0.1:${this.webtransportPort}/pulse/wt`;
  }

  /** Graceful stop (SERVER_SHUTDOWN to every session), then the data directory is removed. */
  async stop(): Promise<void> {
    await this.server.stop(200);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
