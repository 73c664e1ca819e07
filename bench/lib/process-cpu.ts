import { readFileSync } from 'node:fs';

/**
 * CPU time of any process on this machine, by pid, from /proc/<pid>/stat (Linux):
 * the suite reads it for the servers, nats-server and every load generator alike,
 * so a saturated generator shows in the report next to the server it drove.
 */

/** Clock ticks per second of utime/stime in /proc (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** User + system CPU seconds used so far by `pid` (its threads included); undefined once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Resident memory of `pid` in bytes (VmRSS); undefined once it is gone. */
export function residentBytes(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

/** A process the report names, with where its CPU time stood when a measurement began. */
export interface MeteredProcess {
  readonly name: string;
  readonly pid: number;
}

/** One process's share of a measured interval. */
export interface CpuShare {
  readonly name: string;
  /** CPU seconds spent during the interval. */
  readonly cpuSeconds: number;
  /** cpuSeconds / wall seconds: 1.0 is one core busy the whole time. */
  readonly busy: number;
}

/** Above this share of one core a process was the limit of what it drove (a node process runs JS on one thread). */
export const SATURATED = 0.9;

/** Measures the CPU every process in `processes` spends from `start()` to `stop()`. */
export class CpuMeter {
  readonly #processes: readonly MeteredProcess[];
  #before = new Map<number, number>();
  #startedAt = 0;

  constructor(processes: readonly MeteredProcess[]) {
    this.#processes = processes;
  }

  start(): void {
    this.#startedAt = performance.now();
    this.#before = new Map(this.#processes.map((p) => [p.pid, cpuSeconds(p.pid) ?? 0]));
  }

  stop(): { wallSeconds: number; shares: CpuShare[] } {
    const wallSeconds = (performance.now() - this.#startedAt) / 1000;
    const shares = this.#processes.map((p) => {
      const spent = (cpuSeconds(p.pid) ?? 0) - (this.#before.get(p.pid) ?? 0);
      return { name: p.name, cpuSeconds: spent, busy: wallSeconds > 0 ? spent / wallSeconds : 0 };
    });
    return { wallSeconds, shares };
  }
}
