import { CpuMeter, type CpuShare, type MeteredProcess } from './process-cpu.ts';
import type { Row } from './report.ts';

/** What every workload is given. */
export interface Suite {
  /** `--quick`: fewer rounds and smaller counts, to check the suite runs (figures are rough). */
  readonly quick: boolean;
  /** Rounds per measurement (medians are taken over them). */
  readonly rounds: number;
  log(text: string): void;
  /** Notes a part of a workload that failed; the other rows still go in the table. */
  fail(workload: string, error: unknown): void;
}

export interface Workload {
  readonly name: string;
  run(suite: Suite): Promise<Row[]>;
}

/** CPU shares summed over several measured intervals of the same processes. */
export class CpuTally {
  readonly #seconds = new Map<string, number>();
  #wall = 0;

  add(shares: readonly CpuShare[], wallSeconds: number): void {
    this.#wall += wallSeconds;
    for (const s of shares) this.#seconds.set(s.name, (this.#seconds.get(s.name) ?? 0) + s.cpuSeconds);
  }

  shares(): CpuShare[] {
    return [...this.#seconds].map(([name, cpuSeconds]) => ({
      name,
      cpuSeconds,
      busy: this.#wall > 0 ? cpuSeconds / this.#wall : 0,
    }));
  }
}

/** Runs `body` while metering `processes`; returns its result and adds the interval to `tally`. */
export async function metered<T>(
  processes: readonly MeteredProcess[],
  tally: CpuTally,
  body: () => Promise<T>,
): Promise<T> {
  const meter = new CpuMeter(processes);
  meter.start();
  const result = await body();
  const { shares, wallSeconds } = meter.stop();
  tally.add(shares, wallSeconds);
  return result;
}

/** `values` in round order, alternating: forward on even rounds, backward on odd ones (drift hits all alike). */
export function alternate<T>(values: readonly T[], round: number): T[] {
  return round % 2 === 0 ? [...values] : [...values].reverse();
}

export function errorText(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
