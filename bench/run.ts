/**
 * `npm run bench` (full) and `npm run bench -- --quick` (about 2 minutes): Pulse
 * beside what users would otherwise run, every baseline in the same run on the
 * same machine (issue 15). Writes bench/results/latest.md and latest.json.
 *
 * Options: --quick; --only=fan-out,latency,… (workload names); --rounds=N.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stopChildrenOnSignal } from './lib/children.ts';
import { machine, type Report, type Row, toMarkdown, writeReport } from './lib/report.ts';
import { errorText, type Suite, type Workload } from './lib/suite.ts';
import { WORKLOADS } from './workloads/index.ts';

function option(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.find((arg) => arg.startsWith(prefix))?.slice(prefix.length);
}

stopChildrenOnSignal();
const quick = process.argv.includes('--quick');
const only = option('only')?.split(',');
const rounds = Number(option('rounds') ?? (quick ? 1 : 3));
const started = performance.now();
const failures: { workload: string; error: string }[] = [];
/** Every progress line, also written to results/latest.log: each round's figure, before the medians. */
const logLines: string[] = [];
const suite: Suite = {
  quick,
  rounds,
  log: (text) => {
    const line = `[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${text}`;
    logLines.push(line);
    console.log(line);
  },
  fail: (workload, error) => {
    failures.push({ workload, error: errorText(error) });
    logLines.push(`FAILED ${workload}: ${errorText(error)}`);
    console.log(`FAILED ${workload}: ${errorText(error)}`);
  },
};

const unknown = only?.filter((name) => !WORKLOADS.some((w) => w.name === name)) ?? [];
if (unknown.length > 0) {
  console.error(`unknown workload(s) ${unknown.join(', ')}; known: ${WORKLOADS.map((w) => w.name).join(', ')}`);
  process.exit(2);
}
const selected: Workload[] = WORKLOADS.filter((w) => only === undefined || only.includes(w.name));
const rows: Row[] = [];
for (const workload of selected) {
  suite.log(`${workload.name}…`);
  try {
    rows.push(...(await workload.run(suite)));
  } catch (error) {
    suite.fail(workload.name, error);
  }
}

const report: Report = {
  date: new Date().toISOString(),
  mode: quick ? 'quick' : 'full',
  machine: machine(),
  seconds: (performance.now() - started) / 1000,
  rows,
  failures,
};
const directory = option('out') ?? fileURLToPath(new URL('results', import.meta.url));
writeReport(report, directory);
writeFileSync(`${directory}/latest.log`, `${logLines.join('\n')}\n`);
console.log(`\n${toMarkdown(report)}`);
console.log(`written to ${directory}/latest.md, latest.json and latest.log`);
process.exit(failures.length > 0 ? 1 : 0);
