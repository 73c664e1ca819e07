import { spawn } from 'node:child_process';
import { createWriteStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../repo.ts';
import { type TestServerOptions, temporaryDirectory } from './test-config.ts';
import { TEST_LIMITS } from './test-limits.ts';

/** How long the server may take to print PULSE_LISTENING (tsx compiles it first; the 2 cores are shared). */
const START_MS = 30_000;
/** How long a SIGTERM may take before SIGKILL. */
const STOP_MS = 10_000;

/** The exit code, or the name of the signal that ended the process. */
export type ExitStatus = number | NodeJS.Signals;

export interface ServerProcess {
  readonly pid: number;
  readonly baseUrl: string;
  readonly websocketUrl: string;
  readonly httpPort: number;
  readonly webtransportPort: number | undefined;
  /** `/metrics` on the metrics listener (127.0.0.1, a free port). */
  readonly metricsUrl: string;
  /** The server's data directory (SQLite files, secret, certificate): pass it again to restart "the same" server. */
  readonly dataDir: string;
  /** Everything the server printed (stdout and stderr), also written to `<dir>/server.log`. */
  readonly logFile: string;
  output(): string;
  /** Settles once the process has exited. */
  readonly exited: Promise<ExitStatus>;
  /** Sends `signal` to the process by its pid: SIGKILL is a crash, SIGTERM a service manager's stop. */
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM (a graceful stop, as `npm start` gets from a service manager); SIGKILL after 10 s. */
  stop(): Promise<ExitStatus>;
}

type TomlValue = string | number | boolean;

export interface SpawnServerOptions extends TestServerOptions {
  /** WebTransport on a UDP port next to WebSocket; default true. */
  readonly webtransport?: boolean;
  /** Serve the web client (bundled at start, about a second); default true. */
  readonly webClient?: boolean;
  /** Fixed ports and data directory, to restart "the same" server. */
  readonly httpPort?: number;
  readonly webtransportPort?: number;
  readonly dataDir?: string;
  /** Keys written into the config file as they are, by section (snake_case, as a user writes them). */
  readonly config?: Readonly<Record<string, Readonly<Record<string, TomlValue>>>>;
}

/** `authAttempts` → `auth_attempts`: the TOML spelling of a config key. */
function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function toml(sections: Record<string, Record<string, TomlValue>>): string {
  return Object.entries(sections)
    .map(([section, values]) => {
      const lines = Object.entries(values).map(([key, value]) => `${key} = ${JSON.stringify(value)}`);
      return [`[${section}]`, ...lines].join('\n');
    })
    .join('\n\n');
}

function configFile(dir: string, dataDir: string, options: SpawnServerOptions): string {
  const bySnakeName = (values: object) =>
    Object.fromEntries(Object.entries(values).map(([key, value]) => [snake(key), value as TomlValue]));
  const sections: Record<string, Record<string, TomlValue>> = {
    server: { host: '127.0.0.1', port: options.httpPort ?? 0 },
    transport: {
      websocket: true,
      webtransport: options.webtransport ?? true,
      webtransport_port: options.webtransportPort ?? 0,
    },
    storage: { path: dataDir },
    metrics: { port: 0 },
    log: { level: 'info' },
    limits: bySnakeName({ ...TEST_LIMITS, ...options.limits }),
    heartbeat: bySnakeName({ ...options.heartbeat }),
  };
  if (options.webClient === false) sections.web = { root: join(dir, 'no-web'), entry: '' };
  for (const [section, values] of Object.entries(options.config ?? {})) {
    sections[section] = { ...sections[section], ...values };
  }
  const file = join(dir, 'pulse.toml');
  writeFileSync(file, `${toml(sections)}\n`);
  return file;
}

/** The environment without PULSE_* variables: they would override the config file (PULSE_<SECTION>_<KEY>). */
function childEnvironment(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PULSE_')));
  return { ...env, NODE_ENV: 'test' };
}

/**
 * Starts the real server (`node --import tsx server/src/edge/main.ts --config
 * FILE`) as a child process listening on 127.0.0.1 (free ports unless given),
 * its files in a temporary directory: what a user runs, over real sockets.
 * Resolves once it prints PULSE_LISTENING; rejects with its output if it exits
 * first (a configuration it refuses) or takes longer than 30 s (then it is killed).
 */
export async function spawnServer(options: SpawnServerOptions = {}): Promise<ServerProcess> {
  const dir = temporaryDirectory('server');
  const dataDir = options.dataDir ?? join(dir, 'data');
  const config = configFile(dir, dataDir, options);
  const logFile = join(dir, 'server.log');
  const log = createWriteStream(logFile);
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/edge/main.ts', '--config', config], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: childEnvironment(),
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('the server process did not start');
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    log.write(chunk);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  // 'close': the process has exited and its output is all read.
  const exited = new Promise<ExitStatus>((resolve) =>
    child.once('close', (code, signal) => {
      log.end();
      resolve(code ?? signal ?? 'SIGKILL');
    }),
  );

  const ports = await new Promise<{ httpPort: number; webtransportPort: number | null; metricsPort: number }>(
    (resolve, reject) => {
      const timer = setTimeout(() => {
        process.kill(pid, 'SIGKILL');
        reject(new Error(`the server did not start within ${START_MS} ms:\n${output}`));
      }, START_MS);
      const listening = () => {
        const match = /PULSE_LISTENING (\{.*\})/.exec(output);
        if (match === null) return;
        clearTimeout(timer);
        child.stdout.off('data', listening);
        resolve(JSON.parse(match[1] as string));
      };
      child.stdout.on('data', listening);
      void exited.then((status) => {
        clearTimeout(timer);
        reject(new Error(`the server exited (${status}) before listening:\n${output}`));
      });
    },
  );

  const kill = (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) process.kill(pid, signal);
  };
  return {
    pid,
    baseUrl: `http://127.0.0.1:${ports.httpPort}`,
    websocketUrl: `ws://127.0.0.1:${ports.httpPort}/pulse/ws`,
    httpPort: ports.httpPort,
    webtransportPort: ports.webtransportPort ?? undefined,
    metricsUrl: `http://127.0.0.1:${ports.metricsPort}/metrics`,
    dataDir,
    logFile,
    output: () => output,
    exited,
    kill,
    async stop() {
      kill('SIGTERM');
      const killer = setTimeout(() => kill('SIGKILL'), STOP_MS);
      const status = await exited;
      clearTimeout(killer);
      return status;
    },
  };
}
