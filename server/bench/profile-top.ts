/**
 * Summarises a `node --cpu-prof` profile: self time by function and by file,
 * so a before/after pair can be compared without a browser.
 *
 *   node --import tsx server/bench/profile-top.ts PROFILE.cpuprofile [N]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [path, count = '25'] = process.argv.slice(2);
if (path === undefined) throw new Error('usage: profile-top.ts PROFILE.cpuprofile [N]');
const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfTime = new Map<number, number>();
for (const [i, id] of profile.samples.entries())
  selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
const total = [...selfTime.values()].reduce((a, b) => a + b, 0);

function top(key: (node: ProfileNode) => string): void {
  const sums = new Map<string, number>();
  for (const [id, time] of selfTime) {
    const k = key(byId.get(id)!);
    sums.set(k, (sums.get(k) ?? 0) + time);
  }
  for (const [k, time] of [...sums].sort((a, b) => b[1] - a[1]).slice(0, Number(count))) {
    console.log(`${((100 * time) / total).toFixed(1).padStart(5)}%  ${(time / 1000).toFixed(0).padStart(6)} ms  ${k}`);
  }
}

const short = (url: string) =>
  url.replace(/^file:\/\/.*?\/(node_modules|server|proto|clients|crypto|testing|webtransport)\//, '$1/');
console.log(`total ${(total / 1000).toFixed(0)} ms\n-- self time by function`);
top((n) => `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`);
console.log('-- self time by file');
top((n) => short(n.callFrame.url) || `(${n.callFrame.functionName})`);
