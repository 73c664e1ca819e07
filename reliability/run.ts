/**
 * `npm run test:reliability [-- --quick] [-- --only=name,name]`: the reliability
 * suites (docs/reliability.md), each in a process of its own, one after
 * another (they measure the machine, so never two at once). Prints each
 * suite's figures and verdicts, then a summary; exits non-zero when any
 * property of any suite failed.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '@pulse/testing';

const SUITES = ['authorization', 'crash-durability', 'hostile-wire', 'abuse', 'soak'] as const;

const argv = process.argv.slice(2);
const only = argv
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const unknown = only?.filter((name) => !(SUITES as readonly string[]).includes(name)) ?? [];
if (unknown.length > 0) {
  console.error(`unknown suite(s) ${unknown.join(', ')}; suites: ${SUITES.join(', ')}`);
  process.exit(2);
}
const passOn = argv.filter((a) => !a.startsWith('--only='));
const chosen = SUITES.filter((name) => only === undefined || only.includes(name));

function runSuite(name: string): Promise<{ status: number | string; seconds: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', join('reliability', 'suites', `${name}.ts`), ...passOn], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
  });
  return new Promise((resolve) =>
    child.once('close', (code, signal) =>
      resolve({ status: code ?? signal ?? 'unknown', seconds: (performance.now() - started) / 1000 }),
    ),
  );
}

const started = performance.now();
const outcomes: { name: string; status: number | string; seconds: number }[] = [];
for (const name of chosen) outcomes.push({ name, ...(await runSuite(name)) });

console.log(`\n== reliability summary (${argv.includes('--quick') ? 'quick' : 'full'}) ==`);
for (const { name, status, seconds } of outcomes) {
  console.log(
    `  ${status === 0 ? 'PASS' : 'FAIL'} ${name} (${seconds.toFixed(1)} s${status === 0 ? '' : `, exit ${status}`})`,
  );
}
console.log(`  total ${((performance.now() - started) / 1000).toFixed(1)} s`);
process.exit(outcomes.every((o) => o.status === 0) ? 0 : 1);
