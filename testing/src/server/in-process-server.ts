import { rmSync } from 'node:fs';
import { xeddsaVerify } from '@pulse/crypto';
import type { DirectTransport, TransportEvents, TransportFactories } from '@pulse/sdk';
import { PulseNode, type Store } from '@pulse/server';
import pino from 'pino';
import { MemoryConnection, type MemoryConnectionOptions } from '../memory/memory-connection.ts';
import type { OpenTransport, WireTransport } from '../protocol/wire-transport.ts';
import { type TestServerOptions, temporaryDirectory, testServerConfig } from './test-config.ts';

let servers = 0;

export interface InProcessServerOptions extends TestServerOptions {
  /** Replaces the SQLite store (tests of a failing store). */
  readonly store?: Store;
  /** The server's wall clock in milliseconds (tests that move time by hand, with `node.tick()`). */
  readonly now?: () => number;
  /** What the server logs (pino level); default `info`. */
  readonly logLevel?: 'trace' | 'debug' | 'info' | 'warn';
}

/**
 * A real Pulse server (PulseNode: the core over a SQLite file in a temporary
 * directory, with its heartbeats and expiry timers) in this process, without
 * listeners: clients reach it over in-memory connections handed to `accept`.
 * For behaviour tests; what a user meets on the network (WebTransport, WebSocket,
 * a server process that restarts) is tested against `ListeningServer` and
 * `spawnServer`.
 */
export class InProcessServer {
  /** What SDK clients store as their server: never fetched, a direct transport needs no URL. */
  readonly url: string;
  readonly node: PulseNode;
  /** A temporary directory: the SQLite database and the server secret; removed by `stop`. */
  readonly dataDir: string;
  readonly #log: string[];
  #stopped = false;

  private constructor(node: PulseNode, dataDir: string, log: string[]) {
    this.node = node;
    this.dataDir = dataDir;
    this.#log = log;
    servers += 1;
    // `.test` names never resolve (RFC 6761 §6.2): nothing can reach this by accident.
    this.url = `http://in-process-${servers}.pulse.test`;
  }

  static start(options: InProcessServerOptions = {}): InProcessServer {
    const dataDir = temporaryDirectory('in-process');
    const log: string[] = [];
    const logger = pino(
      { level: options.logLevel ?? 'info', base: { service: 'pulse' } },
      { write: (line: string) => void log.push(line) },
    );
    const node = new PulseNode({
      config: testServerConfig(dataDir, options),
      verify: xeddsaVerify,
      logger,
      store: options.store,
      now: options.now,
    });
    node.start();
    return new InProcessServer(node, dataDir, log);
  }

  /** Sessions the server holds now. */
  get sessionCount(): number {
    return this.node.sessionCount;
  }

  /** Everything the server logged (pino JSON lines). */
  logs(): string {
    return this.#log.join('');
  }

  /** The Prometheus exposition the server's /metrics would serve. */
  metrics(): Promise<string> {
    return this.node.metrics.registry.metrics();
  }

  /** Opens an in-memory connection to the server for a client listening with `events`. */
  connect(events: TransportEvents, options: MemoryConnectionOptions = {}): MemoryConnection {
    if (this.#stopped) throw new Error('the in-process server is stopped');
    return MemoryConnection.open(this.node.accept, events, options);
  }

  /** Opens in-memory connections for a `FrameClient`: `FrameClient.open(server.dial())`. */
  dial(options: MemoryConnectionOptions = {}): OpenTransport<WireTransport> {
    return (events) => this.connect(events, options).client;
  }

  /** The SDK's transport option for this server: `PulseClient.open({ server: url, factories, ... })`. */
  transportFactories(options: MemoryConnectionOptions = {}): TransportFactories {
    const direct: DirectTransport = {
      kind: options.kind ?? 'websocket',
      open: (events) => this.connect(events, options).client,
    };
    return { direct };
  }

  /** Closes every session (SERVER_SHUTDOWN), commits, closes the database, removes the data directory. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.node.close();
    // Let the close frames and onClose callbacks already queued reach the clients.
    await new Promise((resolve) => setImmediate(resolve));
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
