/**
 * Fan-out: 1 channel × N subscribers, P publications of 64 B and of 1 KiB;
 * delivered messages per second (N × P ÷ the time from the first publish to the
 * last delivery). Pulse (channel publish over WebSocket, and over WebTransport)
 * beside a bare `ws` broadcast, Socket.IO rooms and NATS core, all set up at
 * once and measured in alternating rounds. Subscribers live in two generator
 * processes, the publisher in a third.
 */

import type { PubSubSystem, Target } from '../generators/systems.ts';
import { Child } from '../lib/child.ts';
import type { MeteredProcess } from '../lib/process-cpu.ts';
import { type Row, saturatedGenerators } from '../lib/report.ts';
import { startBaselineServer, startNats, startPulse } from '../lib/servers.ts';
import { median } from '../lib/stats.ts';
import { alternate, CpuTally, metered, type Suite, type Workload } from '../lib/suite.ts';

const LABELS: Record<PubSubSystem, string> = {
  'pulse-ws': 'channel publish, WebSocket',
  'pulse-wt': 'channel publish, WebTransport',
  ws: 'bare ws broadcast',
  socketio: 'Socket.IO rooms',
  nats: 'NATS core',
};

const GOALS: Partial<Record<PubSubSystem, { text: string; min: number }>> = {
  ws: { text: '≥ 2× bare ws', min: 2 },
  socketio: { text: '≥ 5× Socket.IO', min: 5 },
};

interface Under {
  readonly target: Target;
  readonly server: MeteredProcess;
  readonly rates: Map<number, number[]>;
  readonly cpu: Map<number, CpuTally>;
  /** Deliveries that had not arrived when a round timed out, per payload size. */
  readonly lost: Map<number, number>;
}

export const fanout: Workload = {
  name: 'fan-out',
  async run(suite: Suite): Promise<Row[]> {
    const subscribers = Number(process.env.BENCH_SUBSCRIBERS ?? (suite.quick ? 100 : 1000));
    const publications = Number(process.env.BENCH_PUBLICATIONS ?? (suite.quick ? 100 : 200));
    const sizes = [64, 1024];
    const stops: (() => Promise<void>)[] = [];
    try {
      const pulse = await startPulse();
      stops.push(async () => void (await pulse.server.stop()));
      const nats = await startNats();
      stops.push(() => nats.stop());
      const ws = await startBaselineServer('ws server', 'servers/ws-broadcast.ts');
      stops.push(() => ws.child.stop());
      const sio = await startBaselineServer('socket.io server', 'servers/socketio-rooms.ts');
      stops.push(() => sio.child.stop());
      const generators = await Promise.all(
        ['gen-sub-1', 'gen-sub-2', 'gen-pub'].map((name) => Child.start(name, 'generators/fanout.ts')),
      );
      for (const g of generators) stops.push(() => g.stop());
      const [sub1, sub2, pub] = generators as [Child, Child, Child];

      const candidates: { target: Target; server: MeteredProcess }[] = [
        { target: { system: 'pulse-ws', url: pulse.websocketUrl }, server: { name: 'pulse server', pid: pulse.pid } },
        {
          target: { system: 'pulse-wt', url: pulse.webtransportUrl, certificateSha256: pulse.certificateSha256 },
          server: { name: 'pulse server', pid: pulse.pid },
        },
        { target: { system: 'ws', url: ws.url }, server: ws.child },
        { target: { system: 'socketio', url: sio.url }, server: sio.child },
        { target: { system: 'nats', url: nats.url }, server: { name: 'nats-server', pid: nats.pid } },
      ];
      const unders: Under[] = [];
      for (const candidate of candidates) {
        const { target } = candidate;
        try {
          suite.log(`fan-out: ${subscribers} ${target.system} subscribers`);
          const half = Math.floor(subscribers / 2);
          await Promise.all([
            sub1.request('subscribe', { target, count: half }),
            sub2.request('subscribe', { target, count: subscribers - half }),
          ]);
          await pub.request('publisher', { target });
          unders.push({ ...candidate, rates: new Map(), cpu: new Map(), lost: new Map() });
        } catch (error) {
          suite.fail(`fan-out ${target.system}`, error);
        }
      }

      for (let round = 0; round < suite.rounds; round++) {
        for (const bytes of sizes) {
          for (const under of alternate(unders, round)) {
            const { system } = under.target;
            const tally = under.cpu.get(bytes) ?? new CpuTally();
            under.cpu.set(bytes, tally);
            const processes = [under.server, sub1, sub2, pub];
            const rate = await metered(processes, tally, async () => {
              await Promise.all([sub1, sub2].map((g) => g.request('arm', { system, messages: publications })));
              const timeoutMs = 30_000 + (subscribers * publications) / 2;
              const started = performance.now();
              const waits = [sub1, sub2].map((g) =>
                g.request<{ received: number; expected: number }>('wait', { system, timeoutMs }),
              );
              await pub.request('publish', { system, messages: publications, bytes, batch: 20 });
              const counts = await Promise.all(waits);
              const seconds = (performance.now() - started) / 1000;
              const received = counts.reduce((sum, c) => sum + c.received, 0);
              const expected = counts.reduce((sum, c) => sum + c.expected, 0);
              if (received < expected) {
                suite.log(`fan-out ${system}: ${received} of ${expected} arrived in time`);
                under.lost.set(bytes, (under.lost.get(bytes) ?? 0) + expected - received);
              }
              return received / seconds;
            });
            suite.log(`fan-out ${system} ${bytes} B round ${round + 1}: ${Math.round(rate)} msgs/s`);
            under.rates.set(bytes, [...(under.rates.get(bytes) ?? []), rate]);
          }
        }
      }

      const rows: Row[] = [];
      const find = (system: PubSubSystem) => unders.find((u) => u.target.system === system);
      for (const bytes of sizes) {
        for (const pulseSystem of ['pulse-ws', 'pulse-wt'] as const) {
          const ours = find(pulseSystem);
          if (ours === undefined) continue;
          for (const baselineSystem of ['ws', 'socketio', 'nats'] as const) {
            const theirs = find(baselineSystem);
            if (theirs === undefined) continue;
            const pulseCpu = ours.cpu.get(bytes)?.shares() ?? [];
            const baselineCpu = theirs.cpu.get(bytes)?.shares() ?? [];
            const limited = [
              ...saturatedGenerators(pulseCpu).map((g) => `${g} (Pulse rounds)`),
              ...saturatedGenerators(baselineCpu).map((g) => `${g} (baseline rounds)`),
            ];
            const goal = GOALS[baselineSystem];
            const lost = [ours, theirs]
              .filter((u) => (u.lost.get(bytes) ?? 0) > 0)
              .map((u) => `${LABELS[u.target.system]} ${u.lost.get(bytes)}`);
            rows.push({
              workload: `fan-out 1 channel × ${subscribers} subscribers, ${bytes} B`,
              pulse: LABELS[pulseSystem],
              pulseValue: median(ours.rates.get(bytes) ?? []),
              baseline: LABELS[baselineSystem],
              baselineValue: median(theirs.rates.get(bytes) ?? []),
              unit: 'msgs/s',
              ...(goal === undefined ? {} : { goal }),
              note:
                `median of ${suite.rounds} alternating rounds of ${publications} publications, delivered msgs/s` +
                (limited.length > 0 ? `; the load generator was the limit: ${limited.join(', ')} saturated` : '') +
                (lost.length > 0
                  ? `; deliveries missing when rounds timed out (counted as not delivered): ${lost.join(', ')}`
                  : ''),
              cpu: { pulse: pulseCpu, baseline: baselineCpu },
            });
          }
        }
      }
      return rows;
    } finally {
      for (const stop of stops.reverse()) await stop().catch(() => {});
    }
  },
};
