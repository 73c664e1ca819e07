import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { bundleNodeProgram, type NodeBundle, REPO_ROOT } from '@pulse/testing';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let bundle: Promise<NodeBundle> | undefined;

/**
 * pulse-chat compiled once per test process: the same sources `npm run chat`
 * runs through tsx, without tsx compiling them again at every command's start.
 * The bin wrapper and `npx pulse-chat` themselves are tested as they are.
 */
function cliBundle(): Promise<NodeBundle> {
  bundle ??= bundleNodeProgram(join(REPO_ROOT, 'clients/cli/src/main.ts'), {
    // The SDK loads its QUIC client through a variable specifier (its native part may be missing).
    runtimeImports: { '@pulse/webtransport/node': join(REPO_ROOT, 'webtransport/src/node/index.ts') },
  });
  return bundle;
}

const ENV = { PULSE_PASSPHRASE: 'correct horse' };

/** Runs `pulse-chat ARGS` as a child process and collects its output. */
export async function runCli(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  const { entry } = await cliBundle();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [entry, ...args],
      { cwd: REPO_ROOT, env: { ...process.env, ...ENV, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Starts `pulse-chat ARGS` with piped stdio (no terminal), for the interactive chat. */
export async function spawnCli(args: readonly string[]): Promise<ChildProcessWithoutNullStreams> {
  const { entry } = await cliBundle();
  return spawn(process.execPath, [entry, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...ENV }, stdio: 'pipe' });
}

/** Parses `recv --json` output. */
export function jsonLines(stdout: string): { sender: string; text: string; group: string | null; time: string }[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
}
