import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The Debian package's binary (`.ci/run` installs it); PULSE_NATS_SERVER overrides. */
const NATS_SERVER = process.env.PULSE_NATS_SERVER ?? '/usr/sbin/nats-server';

/** A port the OS just handed out and released (free now, as far as anyone can tell). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

export interface NatsServerOptions {
  /** Client port (default: a free one); a restart passes the old one so clients find it again. */
  readonly port?: number;
  /** JetStream's data directory (default: a new temporary one, removed by `remove`). */
  readonly storeDir?: string;
  /** Cluster membership: this server's cluster port and its peers' `nats-route://` URLs. */
  readonly cluster?: { readonly name: string; readonly port: number; readonly routes: readonly string[] };
  readonly serverName?: string;
}

/**
 * One real nats-server with JetStream (`-js`), on 127.0.0.1, with its own data
 * directory; stopped by its pid, never by name (other tests run servers too).
 */
export class NatsServer {
  readonly port: number;
  readonly storeDir: string;
  readonly options: NatsServerOptions;
  readonly #process: ChildProcess;
  readonly #exited: Promise<void>;

  private constructor(port: number, storeDir: string, options: NatsServerOptions, child: ChildProcess) {
    this.port = port;
    this.storeDir = storeDir;
    this.options = options;
    this.#process = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#process.pid;
  }

  static async start(options: NatsServerOptions = {}): Promise<NatsServer> {
    const port = options.port ?? (await freePort());
    const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), 'pulse-nats-'));
    const args = ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir];
    if (options.serverName !== undefined) args.push('-n', options.serverName);
    if (options.cluster !== undefined) {
      const { name, port: clusterPort, routes } = options.cluster;
      args.push('--cluster_name', name, '--cluster', `nats://127.0.0.1:${clusterPort}`);
      if (routes.length > 0) args.push('--routes', routes.join(','));
    }
    const child = spawn(NATS_SERVER, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const server = new NatsServer(port, storeDir, options, child);
    await new Promise<void>((resolve, reject) => {
      let log = '';
      const timer = setTimeout(() => reject(new Error(`nats-server did not start:\n${log}`)), 20_000);
      child.stderr?.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes('Server is ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited (${code}):\n${log}`));
      });
    });
    // Keep draining its log so the pipe never fills.
    child.stderr?.resume();
    return server;
  }

  /** kill -9: no shutdown, no flush (what a crash or an OOM kill does). */
  async kill(): Promise<void> {
    if (this.#process.exitCode === null && this.#process.signalCode === null) this.#process.kill('SIGKILL');
    await this.#exited;
  }

  /** A clean stop (SIGTERM). */
  async stop(): Promise<void> {
    if (this.#process.exitCode === null && this.#process.signalCode === null) this.#process.kill('SIGTERM');
    await this.#exited;
  }

  /** The same server again: same port, same data directory (and same cluster settings). */
  restart(): Promise<NatsServer> {
    return NatsServer.start({ ...this.options, port: this.port, storeDir: this.storeDir });
  }

  /** Stops the server and deletes its data directory. */
  async remove(): Promise<void> {
    await this.stop();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}
