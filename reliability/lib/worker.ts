import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '@pulse/testing';

/** A load generator in a process of its own, so its CPU never competes with the measuring client's event loop. */
export interface Worker<R> {
  readonly pid: number;
  /** The worker's result (the JSON it printed after `RESULT `); rejects if it exited without one. */
  readonly result: Promise<R>;
  /** Resolves when the worker says its load has begun (`announceStarted`), or when it ends. */
  readonly started: Promise<void>;
  /** SIGKILL by pid (only this worker). */
  kill(): void;
}

const RESULT = 'RESULT ';
const STARTED = 'STARTED';

/**
 * Starts `reliability/load/<name>.ts` with `args` (JSON in argv[2]). The worker
 * runs for a bounded time and prints one `RESULT {...}` line; anything else it
 * prints is passed through, prefixed with its name. It runs at the lowest CPU
 * priority (nice 19).
 */
export function startWorker<R>(name: string, args: object): Worker<R> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join('reliability', 'load', `${name}.ts`), JSON.stringify(args)],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error(`worker ${name} did not start`);
  // Lowest CPU priority: a load generator stands for clients on other machines, so on these shared
  // cores it must not take the server's or the measuring client's CPU (what is measured is how the
  // server treats the load, not how two processes share a core).
  setPriority(pid, 19);
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
  };
  // A suite that exits (or fails) takes its load generators with it.
  process.once('exit', kill);
  let output = '';
  let markStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    markStarted = resolve;
  });
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (output.includes(`${STARTED}\n`)) markStarted();
  });
  const result = new Promise<R>((resolve, reject) => {
    child.once('close', (code, signal) => {
      markStarted();
      const lines = output.split('\n');
      for (const line of lines) {
        if (line && line !== STARTED && !line.startsWith(RESULT)) console.log(`    [${name}] ${line}`);
      }
      const last = lines.find((line) => line.startsWith(RESULT));
      if (last === undefined) reject(new Error(`worker ${name} exited (${code ?? signal}) without a result`));
      else resolve(JSON.parse(last.slice(RESULT.length)) as R);
    });
  });
  return {
    pid,
    result,
    started,
    kill,
  };
}

/**
 * In a worker: its load has begun (connections registered, the flood under way),
 * so the suite measures from now (a worker may take seconds to start on a busy machine).
 */
export function announceStarted(): void {
  process.stdout.write(`${STARTED}\n`);
}

/** In a worker: its arguments. */
export function workerArgs<A>(): A {
  return JSON.parse(process.argv[2] ?? '{}') as A;
}

/** In a worker: prints the result line and exits (open sockets must not keep it alive). */
export async function finishWorker(result: object): Promise<never> {
  await new Promise<void>((flushed) => process.stdout.write(`${RESULT}${JSON.stringify(result)}\n`, () => flushed()));
  process.exit(0);
}
