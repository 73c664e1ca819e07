import { readFileSync } from 'node:fs';

/** A process's memory as Linux reports it in /proc/PID/status (bytes). */
export interface ProcessMemory {
  /** Resident set size now (VmRSS). */
  readonly rss: number;
  /** Peak resident set size since the process started (VmHWM). */
  readonly peakRss: number;
}

function field(status: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(status);
  if (match === null) throw new Error(`/proc status has no ${name}`);
  return Number(match[1]) * 1024;
}

/** Reads /proc/PID/status; undefined once the process is gone. */
export function processMemory(pid: number): ProcessMemory | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  return { rss: field(status, 'VmRSS'), peakRss: field(status, 'VmHWM') };
}

/** Samples a process's RSS every `intervalMs` until stopped: the highest sample and every sample with its time. */
export class MemorySampler {
  readonly samples: { readonly at: number; readonly rss: number }[] = [];
  readonly #timer: NodeJS.Timeout;
  readonly #pid: number;

  constructor(pid: number, intervalMs = 250) {
    this.#pid = pid;
    this.#timer = setInterval(() => this.sample(), intervalMs);
    this.sample();
  }

  sample(): void {
    const memory = processMemory(this.#pid);
    if (memory !== undefined) this.samples.push({ at: performance.now(), rss: memory.rss });
  }

  get max(): number {
    return Math.max(0, ...this.samples.map((s) => s.rss));
  }

  stop(): void {
    clearInterval(this.#timer);
    this.sample();
  }
}
