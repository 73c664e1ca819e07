import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The repository root (clients/test/helpers → ../../..). */
export const REPO_ROOT = resolve(import.meta.dirname, '../../..');

export interface RunningServer {
  readonly baseUrl: string;
  readonly httpPort: number;
  readonly webtransportPort: number | undefined;
  /** The server's data directory (SQLite files, certificate). */
  readonly dataDir: string;
  /** Everything the server printed (stdout and stderr), also written to `<dir>/server.log`. */
  readonly logFile: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts the real server (`node --import tsx server/src/edge/main.ts`) as a child
 * process on free ports with a temporary data directory; `stop()` ends it by pid.
 */
export async function startServer(
  options: {
    webtransport?: boolean;
    limits?: Record<string, number>;
    /** Fixed ports and data directory, to restart "the same" server. */
    httpPort?: number;
    webtransportPort?: number;
    dataDir?: string;
  } = {},
): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-clients-'));
  const dataDir = options.dataDir ?? join(dir, 'data');
  const limits = {
    auth_attempts: 10_000,
    prekey_fetches: 10_000,
    max_connections_per_ip: 1_000,
    ...options.limits,
  };
  const config = [
    '[server]',
    'host = "127.0.0.1"',
    `port = ${options.httpPort ?? 0}`,
    '[transport]',
    'websocket = true',
    `webtransport = ${options.webtransport === false ? 'false' : 'true'}`,
    `webtransport_port = ${options.webtransportPort ?? 0}`,
    '[storage]',
    `path = ${JSON.stringify(dataDir)}`,
    '[log]',
    'level = "info"',
    '[limits]',
    ...Object.entries(limits).map(([key, value]) => `${key} = ${value}`),
    '',
  ].join('\n');
  const configFile = join(dir, 'pulse.toml');
  writeFileSync(configFile, config);
  const logFile = join(dir, 'server.log');
  const log = createWriteStream(logFile);
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'server/src/edge/main.ts', '--config', configFile],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_ENV: 'test' },
    },
  );
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    log.write(chunk);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  const ports = await new Promise<{ httpPort: number; webtransportPort: number | null }>((resolvePorts, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 30_000);
    const check = () => {
      const match = /PULSE_LISTENING (\{.*\})/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolvePorts(JSON.parse(match[1]!));
      }
    };
    child.stdout?.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });

  return {
    baseUrl: `http://127.0.0.1:${ports.httpPort}`,
    httpPort: ports.httpPort,
    webtransportPort: ports.webtransportPort ?? undefined,
    dataDir,
    logFile,
    output: () => output,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.pid === undefined) {
          log.end(() => done());
          return;
        }
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(killer);
          log.end(() => done());
        });
        process.kill(child.pid, 'SIGTERM');
      }),
  };
}
