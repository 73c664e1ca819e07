/**
 * Idle connections: how many Pulse holds (WebSocket, WebTransport), the server's
 * resident memory per connection, and connects per second, beside a bare `ws`
 * server holding the same number of sockets. Load generators are spread over
 * several processes, each dialling from its own loopback address (127.0.0.2, …).
 * Goals: hold ≥ 19,000 WebSocket connections (full run; one process may open
 * 20,000 files here); ≤ 1.5× bare ws bytes per connection.
 *
 * A Pulse connection here is held after hello → welcome, not authenticated (the
 * bench server's heartbeat timeout, which also closes unauthenticated
 * connections, is an hour: lib/servers.ts BENCH_HEARTBEAT).
 */

import type { Target } from '../generators/systems.ts';
import { Child } from '../lib/child.ts';
import { type MeteredProcess, residentBytes } from '../lib/process-cpu.ts';
import type { Row } from '../lib/report.ts';
import { startBaselineServer, startPulse } from '../lib/servers.ts';
import { CpuTally, metered, type Suite, type Workload } from '../lib/suite.ts';

interface Held {
  readonly opened: number;
  readonly failed: number;
  readonly firstError: string;
  readonly connectsPerSecond: number;
  readonly bytesPerConnection: number;
  readonly cpu: CpuTally;
}

/**
 * The server's resident memory once it has stopped falling: memory freed by the
 * previous phase's closed connections returns to the OS over seconds, and read
 * too early it would count against this phase (a negative figure).
 */
async function settledResidentBytes(pid: number): Promise<number> {
  let last = residentBytes(pid) ?? 0;
  for (let waited = 0; waited < 30_000; waited += 2_000) {
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const now = residentBytes(pid) ?? 0;
    if (now >= last * 0.99) return now;
    last = now;
  }
  return last;
}

/** Opens `total` connections to `target` spread over `generators`, and measures the server `server`. */
async function hold(
  target: Target,
  server: MeteredProcess,
  generators: readonly Child[],
  total: number,
  concurrency: number,
): Promise<Held> {
  const before = await settledResidentBytes(server.pid);
  const cpu = new CpuTally();
  const share = Math.ceil(total / generators.length);
  const started = performance.now();
  const results = await metered([server, ...generators], cpu, () =>
    Promise.all(
      generators.map((g, i) =>
        g.request<{ opened: number; failed: number; firstError: string }>('open', {
          target,
          count: Math.min(share, total - share * i),
          localAddress: `127.0.0.${i + 2}`,
          concurrency,
        }),
      ),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const after = residentBytes(server.pid) ?? 0;
  const opened = results.reduce((sum, r) => sum + r.opened, 0);
  await Promise.all(generators.map((g) => g.request('close')));
  return {
    opened,
    failed: results.reduce((sum, r) => sum + r.failed, 0),
    firstError: results.find((r) => r.firstError !== '')?.firstError ?? '',
    connectsPerSecond: opened / seconds,
    bytesPerConnection: opened > 0 ? (after - before) / opened : Number.NaN,
    cpu,
  };
}

export const connections: Workload = {
  name: 'connections',
  async run(suite: Suite): Promise<Row[]> {
    const webSockets = Number(process.env.BENCH_CONNECTIONS ?? (suite.quick ? 500 : 19_000));
    const webTransports = Number(process.env.BENCH_WT_CONNECTIONS ?? (suite.quick ? 50 : 1_000));
    const processes = suite.quick ? 2 : 4;
    const stops: (() => Promise<void>)[] = [];
    try {
      const pulse = await startPulse();
      stops.push(async () => void (await pulse.server.stop()));
      const ws = await startBaselineServer('ws server', 'servers/ws-broadcast.ts');
      stops.push(() => ws.child.stop());
      const generators = await Promise.all(
        Array.from({ length: processes }, (_, i) => Child.start(`gen-conn-${i + 1}`, 'generators/connections.ts')),
      );
      for (const g of generators) stops.push(() => g.stop());
      const pulseServer = { name: 'pulse server', pid: pulse.pid };

      suite.log(`connections: ${webSockets} to bare ws`);
      const base = await hold({ system: 'ws', url: ws.url }, ws.child, generators, webSockets, 64);
      suite.log(`connections: ${base.opened} bare ws held, ${Math.round(base.bytesPerConnection)} B each`);
      suite.log(`connections: ${webSockets} Pulse WebSocket`);
      const ours = await hold({ system: 'pulse-ws', url: pulse.websocketUrl }, pulseServer, generators, webSockets, 64);
      suite.log(`connections: ${ours.opened} Pulse WS held, ${Math.round(ours.bytesPerConnection)} B each`);
      suite.log(`connections: ${webTransports} Pulse WebTransport`);
      const wt = await hold(
        { system: 'pulse-wt', url: pulse.webtransportUrl, certificateSha256: pulse.certificateSha256 },
        pulseServer,
        generators,
        webTransports,
        16,
      );
      suite.log(`connections: ${wt.opened} Pulse WT held, ${Math.round(wt.bytesPerConnection)} B each`);

      const failures = (h: Held) => (h.failed > 0 ? `; ${h.failed} failed (first: ${h.firstError})` : '');
      const how = `${processes} generator processes on 127.0.0.2–${processes + 1}; bytes = the server's resident memory after minus before ÷ connections held; one round`;
      const cpu = (h: Held) => ({ pulse: h.cpu.shares(), baseline: base.cpu.shares() });
      const rows: Row[] = [
        {
          workload: 'idle connections held',
          pulse: 'WebSocket (hello → welcome)',
          pulseValue: ours.opened,
          baseline: 'bare ws server',
          baselineValue: base.opened,
          unit: 'connections',
          ...(suite.quick ? {} : { goal: { text: 'hold ≥ 19,000 WS', min: 19_000, onValue: true } }),
          note: `${webSockets} tried on each${failures(ours)}${failures(base)}; ${how}`,
          cpu: cpu(ours),
        },
        {
          workload: 'idle connections held',
          pulse: 'WebTransport (hello → welcome)',
          pulseValue: wt.opened,
          baseline: 'bare ws server (WS count)',
          baselineValue: base.opened,
          unit: 'connections',
          note: `${webTransports} WebTransport sessions tried${failures(wt)}; ${how}`,
          cpu: cpu(wt),
        },
        {
          workload: 'server memory per idle connection',
          pulse: 'WebSocket',
          pulseValue: ours.bytesPerConnection,
          baseline: 'bare ws server',
          baselineValue: base.bytesPerConnection,
          unit: 'B',
          goal: { text: '≤ 1.5× bare ws', max: 1.5 },
          note: how,
        },
        {
          workload: 'server memory per idle connection',
          pulse: 'WebTransport',
          pulseValue: wt.bytesPerConnection,
          baseline: 'bare ws server',
          baselineValue: base.bytesPerConnection,
          unit: 'B',
          note: how,
        },
        {
          workload: 'connects per second',
          pulse: 'WebSocket (open + hello → welcome)',
          pulseValue: ours.connectsPerSecond,
          baseline: 'bare ws server (open)',
          baselineValue: base.connectsPerSecond,
          unit: 'connects/s',
          note: `64 connects in flight per generator; ${how}`,
        },
        {
          workload: 'connects per second',
          pulse: 'WebTransport (open + hello → welcome)',
          pulseValue: wt.connectsPerSecond,
          baseline: 'bare ws server (open)',
          baselineValue: base.connectsPerSecond,
          unit: 'connects/s',
          note: `16 connects in flight per generator; ${how}`,
        },
      ];
      return rows;
    } finally {
      for (const stop of stops.reverse()) await stop().catch(() => {});
    }
  },
};
