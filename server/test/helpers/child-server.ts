import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const repoRoot = join(import.meta.dirname, '..', '..', '..');

export interface ChildServer {
  readonly process: ChildProcess;
  readonly httpPort: number;
  /** Lines printed on stdout up to and including PULSE_LISTENING. */
  readonly stdout: readonly string[];
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
}

/** Writes a TOML config for a child server: port 0, the given data dir, WebSocket only. */
export function writeChildConfig(dataDir: string, extra = '', transport = 'webtransport = false'): string {
  const path = join(dataDir, 'pulse.toml');
  writeFileSync(
    path,
    `[server]\nhost = "127.0.0.1"\nport = 0\n[transport]\n${transport}\n[storage]\npath = "${dataDir}"\n` +
      `[web]\nroot = "${join(dataDir, 'web')}"\nentry = ""\n[log]\nlevel = "warn"\n${extra}`,
  );
  return path;
}

/** Spawns `node --import tsx server/src/edge/main.ts --config FILE` and waits for its PULSE_LISTENING line. */
export function spawnServer(configPath: string): Promise<ChildServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/edge/main.ts', '--config', configPath], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PULSE_CONFIG: '' },
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start in time: ${stderr}`));
    }, 30_000);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening: ${stderr}`));
    });
    const stdout: string[] = [];
    createInterface({ input: child.stdout! }).on('line', (line) => {
      stdout.push(line);
      if (!line.startsWith('PULSE_LISTENING ')) return;
      clearTimeout(timer);
      const { httpPort } = JSON.parse(line.slice('PULSE_LISTENING '.length)) as { httpPort: number };
      resolve({ process: child, httpPort, exited, stdout });
    });
  });
}
