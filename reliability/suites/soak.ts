/**
 * Soak: as many concurrent connections as this machine holds, WebSocket and
 * WebTransport mixed (client processes of their own: lib/../load/soak-clients.ts),
 * each a registered account chatting with the others at a steady rate, for
 * 10 minutes (quick: 30 s). Properties:
 * - no errors: no error frame, no close, every message delivered;
 * - memory flat after warm-up: the server's RSS (/proc/PID/status; the server
 *   has no heap gauge on /metrics) at the end is within 10 % of its level just
 *   after warm-up (medians of the first and last tenth of the steady phase,
 *   warm-up being its first fifth).
 */

import { runMode, sized } from '../lib/mode.ts';
import { MemorySampler } from '../lib/process-memory.ts';
import { SuiteReport } from '../lib/report.ts';
import { certificateSha256Hex, exitWatch, metricSum, scrapeMetrics, webTransportUrl } from '../lib/server-figures.ts';
import { median, mib } from '../lib/stats.ts';
import { suiteServer } from '../lib/suite-server.ts';
import { sleep } from '../lib/temporary.ts';
import { startWorker } from '../lib/worker.ts';
import type { SoakClientArgs, SoakClientFigures } from '../load/soak-clients.ts';

const mode = runMode();
const report = new SuiteReport('soak', mode);
const STEADY_MS = sized(mode, 600_000, 30_000);
const RAMP_MS = sized(mode, 180_000, 12_000);
/** Connections asked for per worker (the ramp stops earlier when opening gets slow or fails). */
const WEBSOCKET_WORKERS = sized(mode, 2, 1);
const WEBSOCKET_PER_WORKER = sized(mode, 5000, 200);
const WEBTRANSPORT_WORKERS = 1;
const WEBTRANSPORT_PER_WORKER = sized(mode, 2000, 50);
/** Each connection sends a message this often (steady chat). */
const MESSAGE_INTERVAL_MS = sized(mode, 30_000, 10_000);
const HEAP_GROWTH_BOUND = 0.1;

const server = await suiteServer({
  webClient: false,
  limits: { maxConnectionsPerIp: 100_000, authAttempts: 1_000_000, maxConnections: 100_000 },
  // Every soak client comes from 127.0.0.1 and stands for a user of its own: 24 open at once.
  config: { server: { max_unauthenticated_per_ip: 1_000 } },
});
const watch = exitWatch(server);
const memory = new MemorySampler(server.pid, 1_000);
const common = { rampMs: RAMP_MS, steadyMs: STEADY_MS, messageIntervalMs: MESSAGE_INTERVAL_MS };
const workers = [
  ...Array.from({ length: WEBSOCKET_WORKERS }, () =>
    startWorker<SoakClientFigures>('soak-clients', {
      ...common,
      transport: 'websocket',
      url: server.websocketUrl,
      count: WEBSOCKET_PER_WORKER,
    } satisfies SoakClientArgs),
  ),
  ...Array.from({ length: WEBTRANSPORT_WORKERS }, () =>
    startWorker<SoakClientFigures>('soak-clients', {
      ...common,
      transport: 'webtransport',
      url: webTransportUrl(server),
      certificateSha256Hex: certificateSha256Hex(server),
      count: WEBTRANSPORT_PER_WORKER,
    } satisfies SoakClientArgs),
  ),
];
// The workers start (about a second), ramp for RAMP_MS, then chat for STEADY_MS.
const steadyStart = performance.now() + 1_000 + RAMP_MS;
await sleep(1_000 + RAMP_MS + STEADY_MS / 2);
const activeMidway = metricSum(await scrapeMetrics(server), 'pulse_connections_active');
// Bounded: a worker that has not reported 2 minutes after its steady phase ended is killed and counted as failed.
const overdue = setTimeout(
  () => {
    for (const w of workers) w.kill();
  },
  steadyStart + STEADY_MS + 120_000 - performance.now(),
);
const settled = await Promise.allSettled(workers.map((w) => w.result));
clearTimeout(overdue);
const workerFailures = settled.flatMap((s) => (s.status === 'rejected' ? [String(s.reason)] : []));
const results = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
memory.stop();

const steady = memory.samples.filter((s) => s.at >= steadyStart && s.at <= steadyStart + STEADY_MS);
const tenth = Math.max(1, Math.floor(steady.length / 10));
const afterWarmUp = steady
  .slice(Math.floor(steady.length / 5), Math.floor(steady.length / 5) + tenth)
  .map((s) => s.rss);
const atEnd = steady.slice(-tenth).map((s) => s.rss);
const growth = (median(atEnd) - median(afterWarmUp)) / median(afterWarmUp);

const total = (pick: (f: SoakClientFigures) => number) => results.reduce((sum, f) => sum + pick(f), 0);
for (const f of results) {
  report.figure(
    `${f.transport} worker`,
    `${f.opened} opened (ramp stop: ${f.rampStop}, slowest open ${f.slowestOpenMs.toFixed(0)} ms), ${f.openAtEnd} open at end, ${f.delivered}/${f.sent} delivered, p50 ${f.p50.toFixed(1)} ms, p99 ${f.p99.toFixed(1)} ms`,
  );
}
const byTransport = (t: string) => total((f) => (f.transport === t ? f.openAtEnd : 0));
report.figure(
  'connections held (websocket + webtransport)',
  `${total((f) => f.openAtEnd)} (${byTransport('websocket')} + ${byTransport('webtransport')})`,
);
report.figure('pulse_connections_active midway', activeMidway);
report.figure('messages sent / delivered', `${total((f) => f.sent)} / ${total((f) => f.delivered)}`);
report.figure('steady phase', STEADY_MS / 1000, 's');
report.figure('server RSS after warm-up (median)', mib(median(afterWarmUp)), 'MiB');
report.figure('server RSS at the end (median)', mib(median(atEnd)), 'MiB');
report.figure('server RSS peak', mib(memory.max), 'MiB');
report.figure('RSS growth after warm-up', `${(100 * growth).toFixed(1)} %`);

const errors = results.flatMap((f) => Object.entries(f.errors).map(([code, n]) => `${f.transport} ${code} × ${n}`));
const closes = results.flatMap((f) => f.closes.map((c) => `${f.transport}: ${c}`));
const undelivered = total((f) => f.undelivered);
report.check(
  'no errors',
  errors.length === 0 && closes.length === 0 && undelivered === 0 && workerFailures.length === 0,
  `errors [${errors.join(', ')}], closes [${closes.slice(0, 5).join(', ')}], ${undelivered} undelivered, client processes failed [${workerFailures.join('; ')}] (a failed open ends the ramp: ${total((f) => f.openFailures)})`,
);
report.check('the server stays up', watch.exited() === undefined, `exit ${watch.exited() ?? 'none'}`);
report.check(
  `memory flat after warm-up (growth < ${100 * HEAP_GROWTH_BOUND} %)`,
  growth < HEAP_GROWTH_BOUND,
  `${mib(median(afterWarmUp)).toFixed(0)} MiB → ${mib(median(atEnd)).toFixed(0)} MiB (${(100 * growth).toFixed(1)} %)`,
);
await server.stop();
report.finish();
