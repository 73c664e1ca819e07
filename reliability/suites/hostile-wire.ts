/**
 * Hostile wire, live: the server (a child process, WebSocket and WebTransport)
 * under random and mutated frames, lying lengths, slow senders that never
 * finish a frame, floods of streams and datagrams, half-open QUIC handshakes
 * and garbage UDP, from two load processes. Meanwhile a well-behaved client on
 * each transport measures its round trip (lib/round-trip-probe.ts). Properties:
 * - the server stays up (no exit, /healthz, a new client registers on each transport);
 * - its RSS (/proc/PID/status) stays under RSS_BOUND_MIB;
 * - each well-behaved client's round-trip p99 stays within 2× of its unloaded
 *   p99 measured just before, in the same run, and none of its round trips fails.
 */
import { dialWebSocket, dialWebTransport, register } from '@pulse/testing';
import { runMode, sized } from '../lib/mode.ts';
import { MemorySampler } from '../lib/process-memory.ts';
import { SuiteReport } from '../lib/report.ts';
import { RoundTripProbe, type RoundTrips } from '../lib/round-trip-probe.ts';
import {
  certificateSha256Hex,
  exitWatch,
  isHealthy,
  metricSum,
  scrapeMetrics,
  webTransportUrl,
} from '../lib/server-figures.ts';
import { mib } from '../lib/stats.ts';
import { suiteServer } from '../lib/suite-server.ts';
import { startWorker } from '../lib/worker.ts';
import type { HostileWebSocketArgs } from '../load/hostile-websocket.ts';
import type { HostileWebTransportArgs } from '../load/hostile-webtransport.ts';

const mode = runMode();
const report = new SuiteReport('hostile wire', mode);
/** The stated memory bound: the server's resident set never exceeds this during the attack. */
const RSS_BOUND_MIB = 512;
/** The loaded p99 may be at most this many times the unloaded one. */
const P99_FACTOR = 2;
const BASELINE_MS = sized(mode, 20_000, 5_000);
const ATTACK_MS = sized(mode, 60_000, 12_000);

const server = await suiteServer({ webClient: false });
const watch = exitWatch(server);
const memory = new MemorySampler(server.pid);
const wtUrl = webTransportUrl(server);
const hash = certificateSha256Hex(server);
const openWebSocket = dialWebSocket(server.websocketUrl);
const openWebTransport = dialWebTransport(wtUrl, new Uint8Array(Buffer.from(hash, 'hex')));

const probes = {
  websocket: await RoundTripProbe.start(openWebSocket),
  webtransport: await RoundTripProbe.start(openWebTransport),
};
const measureBoth = async (ms: number) => {
  const [websocket, webtransport] = await Promise.all([probes.websocket.measure(ms), probes.webtransport.measure(ms)]);
  return { websocket, webtransport };
};

const baseline = await measureBoth(BASELINE_MS);
const rssBefore = memory.max;

const websocketAttack = startWorker<Record<string, object>>('hostile-websocket', {
  url: server.websocketUrl,
  port: server.httpPort,
  durationMs: ATTACK_MS,
  framesPerSecond: 400,
  slowSenders: 48,
} satisfies HostileWebSocketArgs);
const webtransportAttack = startWorker<Record<string, object>>('hostile-webtransport', {
  url: wtUrl,
  port: server.webtransportPort as number,
  certificateSha256Hex: hash,
  durationMs: ATTACK_MS,
  framesPerSecond: 200,
  slowSenders: 16,
  floodSessions: 8,
  floodPerSecond: 400,
  halfOpenPerSecond: 100,
  garbagePerSecond: 1000,
} satisfies HostileWebTransportArgs);
// The workers take about a second to start: measure the loaded window once they are sending.
await new Promise((resolve) => setTimeout(resolve, 2_000));
const loaded = await measureBoth(ATTACK_MS - 3_000);
const [websocketFigures, webtransportFigures] = await Promise.all([
  websocketAttack.result.catch((error: Error) => ({ error: error.message })),
  webtransportAttack.result.catch((error: Error) => ({ error: error.message })),
]);
memory.stop();

for (const [transport, attacks] of Object.entries({
  websocket: websocketFigures,
  'webtransport/udp': webtransportFigures,
})) {
  for (const [name, figures] of Object.entries(attacks))
    report.figure(`${transport} attack ${name}`, JSON.stringify(figures));
}
const describe = (r: RoundTrips) =>
  `p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, max ${r.max.toFixed(1)} ms, ${r.samples.length} ok, ${r.failures} failed`;
for (const transport of ['websocket', 'webtransport'] as const) {
  report.figure(`${transport} round trip unloaded`, describe(baseline[transport]));
  report.figure(`${transport} round trip under attack`, describe(loaded[transport]));
}
report.figure('server RSS before the attack', mib(rssBefore), 'MiB');
report.figure('server RSS peak during the attack', mib(memory.max), 'MiB');
const metrics = await scrapeMetrics(server).catch(() => new Map<string, number>());
for (const name of [
  'pulse_webtransport_streams_refused_total',
  'pulse_webtransport_streams_over_budget_total',
  'pulse_webtransport_datagrams_dropped_total',
  'pulse_webtransport_receive_peak_bytes',
  'pulse_limit_violations_total',
  'pulse_connections_total',
]) {
  report.figure(name, metricSum(metrics, name));
}

if (watch.exited() !== undefined) {
  report.note(
    `the server exited (${watch.exited()}); the end of its output:\n${server.output().split('\n').slice(-15).join('\n')}`,
  );
}
const healthy = watch.exited() === undefined && (await isHealthy(server));
const newcomers = await Promise.all([register(openWebSocket), register(openWebTransport)]).then(
  () => true,
  () => false,
);
report.check(
  'the server stays up',
  healthy && newcomers && !probes.websocket.isClosed && !probes.webtransport.isClosed,
  `exit ${watch.exited() ?? 'none'}, /healthz ${healthy ? 'ok' : 'failed'}, new clients ${newcomers ? 'registered' : 'failed'}, probes ${probes.websocket.isClosed || probes.webtransport.isClosed ? 'closed' : 'connected'}`,
);
report.check(
  'RSS stays under the bound',
  memory.max <= RSS_BOUND_MIB * 2 ** 20,
  `peak ${mib(memory.max).toFixed(0)} MiB ≤ ${RSS_BOUND_MIB} MiB`,
);
for (const transport of ['websocket', 'webtransport'] as const) {
  const before = baseline[transport];
  const during = loaded[transport];
  report.check(
    `${transport} well-behaved client p99 within ${P99_FACTOR}× of unloaded, no failed round trip`,
    during.p99 <= P99_FACTOR * before.p99 && during.failures === 0,
    `p99 ${during.p99.toFixed(2)} ms vs ${P99_FACTOR} × ${before.p99.toFixed(2)} ms = ${(P99_FACTOR * before.p99).toFixed(2)} ms (${(during.p99 / before.p99).toFixed(2)}×), ${during.failures} failed`,
  );
}

websocketAttack.kill();
webtransportAttack.kill();
probes.websocket.close();
probes.webtransport.close();
await server.stop();
report.finish();
