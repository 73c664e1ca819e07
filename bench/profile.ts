/**
 * `node --import tsx bench/profile.ts [--workload=ingest|latency|fanout]`: runs
 * one of the suite's Pulse workloads against a server under V8's CPU profiler
 * (what `node --cpu-prof` runs; lib/cpu-profiler-preload.mjs), then prints (and writes to bench/results/profile-<workload>.md)
 * where the server's main thread spent its time.
 */
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child } from './lib/child.ts';
import { summarizeProfile } from './lib/cpu-profile.ts';
import { cpuSeconds } from './lib/process-cpu.ts';
import { startPulse } from './lib/servers.ts';

const workload = process.argv.find((a) => a.startsWith('--workload='))?.slice('--workload='.length) ?? 'ingest';
const dir = mkdtempSync(join(tmpdir(), 'pulse-profile-'));
const pulse = await startPulse({ cpuProfileDir: dir });
/** SIGUSR2 starts the server's profiler, the next one stops it and writes the profile (lib/cpu-profiler-preload.mjs). */
const profiler = (pid: number) => process.kill(pid, 'SIGUSR2');
async function profileWritten(directory: string): Promise<void> {
  for (let tries = 0; tries < 600 && !readdirSync(directory).some((f) => f.endsWith('.done')); tries++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
const target = { system: 'pulse-ws' as const, url: pulse.websocketUrl };
const started = performance.now();
let what = '';
let cpuAfter = 0;
let wall = 0;
const generators: Child[] = [];
try {
  if (workload === 'ingest') {
    const g = await Child.start('gen-ingest', 'generators/ingest.ts');
    generators.push(g);
    await g.request('open', { target, senders: 8 });
    const t0 = performance.now();
    const c0 = cpuSeconds(pulse.pid) ?? 0;
    profiler(pulse.pid);
    const rate = await g.request<number>('run', { envelopes: 5_000, outstanding: 16, bytes: 256 });
    wall = (performance.now() - t0) / 1000;
    cpuAfter = (cpuSeconds(pulse.pid) ?? 0) - c0;
    profiler(pulse.pid);
    await profileWritten(dir);
    what = `ingest: 5,000 envelopes of 256 B, 8 senders × 16 outstanding: ${Math.round(rate)} envelopes/s`;
  } else if (workload === 'latency') {
    const g = await Child.start('gen-latency', 'generators/latency.ts');
    generators.push(g);
    await g.request('open', { target, devices: 10 });
    const t0 = performance.now();
    const c0 = cpuSeconds(pulse.pid) ?? 0;
    profiler(pulse.pid);
    const r = await g.request<{ p50: number; p99: number; received: number; sent: number }>('run', {
      rate: 2_000,
      seconds: 5,
      bytes: 1024,
      devices: 10,
      graceMs: 20_000,
    });
    wall = (performance.now() - t0) / 1000;
    cpuAfter = (cpuSeconds(pulse.pid) ?? 0) - c0;
    profiler(pulse.pid);
    await profileWritten(dir);
    what = `latency: 2,000 msgs/s × 5 s to 10 devices: p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, ${r.received}/${r.sent} arrived`;
  } else if (workload === 'fanout') {
    const subs = await Child.start('gen-sub', 'generators/fanout.ts');
    const pub = await Child.start('gen-pub', 'generators/fanout.ts');
    generators.push(subs, pub);
    await subs.request('subscribe', { target, count: 500 });
    await pub.request('publisher', { target });
    await subs.request('arm', { system: 'pulse-ws', messages: 400 });
    const t0 = performance.now();
    const c0 = cpuSeconds(pulse.pid) ?? 0;
    profiler(pulse.pid);
    const waiting = subs.request<{ received: number }>('wait', { system: 'pulse-ws', timeoutMs: 120_000 });
    await pub.request('publish', { system: 'pulse-ws', messages: 400, bytes: 64, batch: 20 });
    const { received } = await waiting;
    wall = (performance.now() - t0) / 1000;
    cpuAfter = (cpuSeconds(pulse.pid) ?? 0) - c0;
    profiler(pulse.pid);
    await profileWritten(dir);
    what = `fan-out: 500 subscribers × 400 publications of 64 B: ${Math.round(received / wall)} msgs/s`;
  } else {
    throw new Error(`unknown workload ${workload} (ingest, latency, fanout)`);
  }
} finally {
  for (const g of generators) await g.stop();
  await pulse.server.stop();
}
const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
if (file === undefined) throw new Error(`the server wrote no profile into ${dir}`);
const root = fileURLToPath(new URL('..', import.meta.url));
const summary = summarizeProfile(join(dir, file), root);
const table = (rows: typeof summary.self) =>
  rows.map((r) => `| ${r.ms.toFixed(0)} | ${(r.share * 100).toFixed(1)}% | \`${r.where}\` |`).join('\n');
const text = `# Server profile: ${workload}

${what}. The profile covers the measured phase only: ${wall.toFixed(1)} s wall, server CPU ${cpuAfter.toFixed(1)} s (${Math.round((cpuAfter / wall) * 100)}% of one core); the whole run took ${((performance.now() - started) / 1000).toFixed(0)} s.
Times are the main thread's wall time: a synchronous call that waits (better-sqlite3's fsync) counts for its frame, \`(idle)\` is the event loop waiting.
Profile: ${join(dir, file)} (open it in Chrome DevTools → Performance, or speedscope).

## Self time (where the main thread's samples land)

| ms | share | function |
|---|---|---|
${table(summary.self)}

## Inclusive time (the function or anything it called)

| ms | share | function |
|---|---|---|
${table(summary.inclusive)}
`;
const out = fileURLToPath(new URL(`results/profile-${workload}.md`, import.meta.url));
writeFileSync(out, text);
console.log(text);
console.log(`written to ${out}`);
process.exit(0);
