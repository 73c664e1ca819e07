import { execFile } from 'node:child_process';
import { REPO_ROOT } from '../../test/helpers/server.ts';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `pulse-chat ARGS` as a child process (as `npm run chat --` would) and collects its output. */
export function runCli(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'clients/cli/src/main.ts', ...args],
      { cwd: REPO_ROOT, env: { ...process.env, PULSE_PASSPHRASE: 'correct horse', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Parses `recv --json` output. */
export function jsonLines(stdout: string): { sender: string; text: string; group: string | null; time: string }[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
}
