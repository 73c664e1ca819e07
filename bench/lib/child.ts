import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { IpcAnswer } from './ipc.ts';
import type { MeteredProcess } from './process-cpu.ts';

/** How long a child may take to load (tsx compiles it first; the cores are shared). */
const START_MS = 60_000;

/**
 * A suite child process (a load generator or a baseline server) started with
 * `fork` under tsx, driven by requests over IPC (lib/ipc.ts). Stopped by its pid.
 */
export class Child implements MeteredProcess {
  readonly name: string;
  readonly #process: ChildProcess;
  readonly #pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  #nextId = 1;
  #exited: Promise<void>;

  private constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.#process = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.on('message', (answer: IpcAnswer) => {
      const waiter = this.#pending.get(answer.id);
      if (waiter === undefined) return;
      this.#pending.delete(answer.id);
      if (answer.ok) waiter.resolve(answer.result);
      else waiter.reject(new Error(`${name}: ${answer.error}`));
    });
    child.once('exit', (code, signal) => {
      for (const waiter of this.#pending.values()) waiter.reject(new Error(`${name} exited (${code ?? signal})`));
      this.#pending.clear();
    });
  }

  get pid(): number {
    return this.#process.pid ?? -1;
  }

  /**
   * Forks `module` (a path relative to bench/, e.g. `generators/fanout.ts`) and
   * waits until it serves requests. `execArgv` adds Node options (e.g. --cpu-prof).
   */
  static async start(name: string, module: string, options: { execArgv?: string[] } = {}): Promise<Child> {
    const path = fileURLToPath(new URL(`../${module}`, import.meta.url));
    const forked = fork(path, [], {
      execArgv: ['--import', 'tsx', ...(options.execArgv ?? [])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    const child = new Child(name, forked);
    const ready = new Promise<unknown>((resolve, reject) => child.#pending.set(0, { resolve, reject }));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${name} did not start within ${START_MS} ms`)), START_MS);
    });
    try {
      await Promise.race([ready, timeout]);
    } catch (error) {
      child.kill();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return child;
  }

  /** Sends `command` and resolves with the child's answer. */
  request<T = unknown>(command: string, args: unknown = {}): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.#process.send({ id, command, args });
    });
  }

  /** Disconnects (the child exits on its own), SIGKILL by pid if it has not after a while. */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.#process.exitCode !== null || this.#process.signalCode !== null) return;
    if (this.#process.connected) this.#process.disconnect();
    const timer = setTimeout(() => this.kill(), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.#process.exitCode === null && this.#process.signalCode === null && this.#process.pid !== undefined) {
      process.kill(this.#process.pid, 'SIGKILL');
    }
  }
}
