import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { CpuShare } from './process-cpu.ts';
import { SATURATED } from './process-cpu.ts';

/**
 * A goal from issue 15: the ratio Pulse ÷ baseline must be at least `min` or at
 * most `max`; with `onValue`, Pulse's own figure must (e.g. "hold ≥ 19,000").
 */
export interface Goal {
  readonly text: string;
  readonly min?: number;
  readonly max?: number;
  readonly onValue?: boolean;
}

/** One line of the table: Pulse's figure beside the baseline's from the same run. */
export interface Row {
  readonly workload: string;
  /** What Pulse ran (e.g. "channel publish, WebSocket"). */
  readonly pulse: string;
  readonly pulseValue: number;
  /** The baseline (e.g. "bare ws broadcast"); the value is from the same run. */
  readonly baseline: string;
  readonly baselineValue: number;
  readonly unit: string;
  readonly goal?: Goal;
  /** How the figure came about (rounds, counts) and any caveat. */
  readonly note?: string;
  /** CPU per process over Pulse's measured rounds, then the baseline's. */
  readonly cpu?: { readonly pulse: readonly CpuShare[]; readonly baseline: readonly CpuShare[] };
}

export interface Report {
  readonly date: string;
  readonly mode: 'quick' | 'full';
  readonly machine: { readonly cpu: string; readonly cores: number; readonly node: string; readonly platform: string };
  readonly seconds: number;
  readonly rows: readonly Row[];
  /** Workloads that failed, with the error: the rest of the table still stands. */
  readonly failures: readonly { readonly workload: string; readonly error: string }[];
}

export function machine(): Report['machine'] {
  const list = cpus();
  return {
    cpu: list[0]?.model ?? 'unknown',
    cores: list.length,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

export function ratioOf(row: Row): number {
  return row.pulseValue / row.baselineValue;
}

/** met / missed, or undefined when the row has no goal (a comparison for information). */
export function verdict(row: Row): 'met' | 'missed' | undefined {
  if (row.goal === undefined) return undefined;
  const ratio = row.goal.onValue ? row.pulseValue : ratioOf(row);
  if (!Number.isFinite(ratio)) return 'missed';
  const { min, max } = row.goal;
  return (min === undefined || ratio >= min) && (max === undefined || ratio <= max) ? 'met' : 'missed';
}

function figure(value: number, unit: string): string {
  if (!Number.isFinite(value)) return 'n/a';
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : value >= 1 ? 2 : 3;
  return `${value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 })} ${unit}`;
}

function cpuText(shares: readonly CpuShare[]): string {
  return shares
    .map(
      (s) =>
        `${s.name} ${s.cpuSeconds.toFixed(1)} s (${Math.round(s.busy * 100)}%${s.busy >= SATURATED ? ', saturated' : ''})`,
    )
    .join('; ');
}

/** The generators that ran at one core's worth: when one did, it, not the server, may have set the figure. */
export function saturatedGenerators(shares: readonly CpuShare[]): string[] {
  return shares.filter((s) => s.name.startsWith('gen') && s.busy >= SATURATED).map((s) => s.name);
}

/** Each distinct note once, after the rows it explains. */
function notesSection(rows: readonly Row[]): string[] {
  const byNote = new Map<string, string[]>();
  for (const row of rows) {
    if (row.note === undefined) continue;
    const who = `${row.workload}: ${row.pulse} vs ${row.baseline}`;
    byNote.set(row.note, [...(byNote.get(row.note) ?? []), who]);
  }
  if (byNote.size === 0) return [];
  const lines = ['', '## How each figure came about', ''];
  for (const [note, who] of byNote) lines.push(`- ${who.join('; ')} — ${note}`);
  return lines;
}

/** CPU per process over each measured system's rounds, each distinct measurement once. */
function cpuSection(rows: readonly Row[]): string[] {
  const seen = new Map<string, string>();
  for (const row of rows) {
    if (row.cpu === undefined) continue;
    for (const [side, label] of [
      ['pulse', row.pulse],
      ['baseline', row.baseline],
    ] as const) {
      const shares = row.cpu[side];
      const key = JSON.stringify(shares);
      if (shares.length > 0 && !seen.has(key)) seen.set(key, `- ${row.workload}, ${label}: ${cpuText(shares)}`);
    }
  }
  if (seen.size === 0) return [];
  return [
    '',
    `## CPU per process (seconds over the measured rounds, and the share of one core; ≥ ${Math.round(SATURATED * 100)}% is saturated)`,
    '',
    ...seen.values(),
  ];
}

export function toMarkdown(report: Report): string {
  const { machine: m } = report;
  const lines = [
    `# Pulse benchmark (${report.mode})`,
    '',
    `${report.date} · ${m.cpu} · ${m.cores} cores · Node ${m.node} · ${m.platform} · ${Math.round(report.seconds)} s`,
    '',
    'Every baseline ran in the same run on the same machine; ratios are Pulse ÷ baseline.',
    '',
    '| workload | Pulse | Pulse figure | baseline | baseline figure | ratio | goal | |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const row of report.rows) {
    const v = verdict(row);
    lines.push(
      `| ${row.workload} | ${row.pulse} | ${figure(row.pulseValue, row.unit)} | ${row.baseline} | ${figure(row.baselineValue, row.unit)} | ${ratioOf(row).toFixed(2)}× | ${row.goal?.text ?? '—'} | ${v ?? ''} |`,
    );
  }
  lines.push(...notesSection(report.rows), ...cpuSection(report.rows));
  if (report.failures.length > 0) {
    lines.push('', '## Workloads that failed', '');
    for (const f of report.failures) lines.push(`- ${f.workload}: ${f.error.split('\n')[0]}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Writes `latest.md` and `latest.json` into `directory`. */
export function writeReport(report: Report, directory: string): void {
  mkdirSync(directory, { recursive: true });
  writeFileSync(`${directory}/latest.md`, toMarkdown(report));
  const rows = report.rows.map((row) => ({ ...row, ratio: ratioOf(row), verdict: verdict(row) ?? null }));
  writeFileSync(`${directory}/latest.json`, `${JSON.stringify({ ...report, rows }, null, 2)}\n`);
}
