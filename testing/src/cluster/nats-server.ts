import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';

/** The Debian package's binary (`.ci/run` installs it); PULSE_NATS_SERVER overrides. */
const NATS_SERVER = process.env.PULSE_NATS_SERVER ?? '/usr/sbin/nats-server';
/** How long nats-server may take to print "Server is ready". */
const START_MS = 20_000;
/** How long JetStream may take to answer `/healthz` (a cluster elects its meta leader first). */
const JETSTREAM_MS = 30_000;

export interface NatsServerOptions {
  /** Client port (default: a free one); a restart passes the old one so clients find it again. */
  readonly port?: number;
  /** JetStream's data directory (`-sd`; default: a new temporary one, removed by `remove`). */
  readonly storeDir?: string;
  /** Cluster membership: this server's route port and its peers' `nats-route://` URLs. */
  readonly cluster?: { readonly name: string; readonly port: number; readonly routes: readonly string[] };
  /** `-n`: JetStream clusters need stable names (they name stream leaders and peers). */
  readonly serverName?: string;
}

/**
 * One real `nats-server -js` on 127.0.0.1 (free ports, its own data
 * directory), stopped by its pid, never by name: other tests run servers too.
 * Its log is written to `<storeDir>/../nats-server.log`.
 */
export class NatsServer {
  readonly port: number;
  /** The HTTP monitoring port (`-m`): `/healthz` says whether JetStream is usable. */
  readonly monitorPort: number;
  readonly storeDir: string;
  readonly options: NatsServerOptions;
  readonly logFile: string;
  readonly #process: ChildProcess;
  readonly #exited: Promise<void>;

  private constructor(
    ports: { port: number; monitorPort: number },
    storeDir: string,
    logFile: string,
    options: NatsServerOptions,
    child: ChildProcess,
  ) {
    this.port = ports.port;
    this.monitorPort = ports.monitorPort;
    this.storeDir = storeDir;
    this.logFile = logFile;
    this.options = options;
    this.#process = child;
    this.#exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#process.pid;
  }

  get running(): boolean {
    return this.#process.exitCode === null && this.#process.signalCode === null;
  }

  static async start(options: NatsServerOptions = {}): Promise<NatsServer> {
    const port = options.port ?? (await freePort());
    const monitorPort = await freePort();
    const storeDir = options.storeDir ?? join(mkdtempSync(join(tmpdir(), 'pulse-nats-')), 'jetstream');
    const logFile = join(storeDir, '..', 'nats-server.log');
    const args = ['-js', '-a', '127.0.0.1', '-p', String(port), '-m', String(monitorPort), '-sd', storeDir];
    if (options.serverName !== undefined) args.push('-n', options.serverName);
    if (options.cluster !== undefined) {
      const { name, port: clusterPort, routes } = options.cluster;
      args.push('--cluster_name', name, '--cluster', `nats://127.0.0.1:${clusterPort}`);
      if (routes.length > 0) args.push('--routes', routes.join(','));
    }
    const child = spawn(NATS_SERVER, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const server = new NatsServer({ port, monitorPort }, storeDir, logFile, options, child);
    const log = createWriteStream(logFile, { flags: 'a' });
    let output = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      log.write(chunk);
      if (output.length < 100_000) output += chunk.toString();
    });
    child.once('close', () => log.end());
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`nats-server did not start within ${START_MS} ms:\n${output}`));
      }, START_MS);
      const ready = () => {
        if (!output.includes('Server is ready')) return;
        clearTimeout(timer);
        child.stderr?.off('data', ready);
        resolve();
      };
      child.stderr?.on('data', ready);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited (${code ?? signal}) before it was ready:\n${output}`));
      });
    });
    return server;
  }

  /**
   * Resolves once `/healthz` answers 200: JetStream is enabled and (in a
   * cluster) has a meta leader, so streams can be created.
   */
  async jetstreamReady(timeoutMs = JETSTREAM_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      try {
        const response = await fetch(`http://127.0.0.1:${this.monitorPort}/healthz`);
        last = await response.text();
        if (response.ok) return;
      } catch (error) {
        last = (error as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`nats-server on ${this.port}: JetStream not ready within ${timeoutMs} ms: ${last}`);
  }

  /** kill -9: no shutdown, no flush (what a crash or an OOM kill does). */
  async kill(): Promise<void> {
    if (this.running) this.#process.kill('SIGKILL');
    await this.#exited;
  }

  /** A clean stop (SIGTERM). */
  async stop(): Promise<void> {
    if (this.running) this.#process.kill('SIGTERM');
    await this.#exited;
  }

  /** The same server again: same port, same data directory, same cluster settings. */
  restart(): Promise<NatsServer> {
    return NatsServer.start({ ...this.options, port: this.port, storeDir: this.storeDir });
  }

  /** Stops the server and deletes its files. */
  async remove(): Promise<void> {
    await this.stop();
    rmSync(join(this.storeDir, '..'), { recursive: true, force: true });
  }
}
