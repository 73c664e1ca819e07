/**
 * Cluster fan-out (issue 13 "Speed"): 1 channel × N subscribers, delivered
 * msgs/s, with the subscribers split over two Pulse nodes in cluster mode (one
 * nats-server, JetStream R1) and the publisher on the first, beside the same
 * load on one Pulse node on SQLite, same run, alternating rounds. The fan-out
 * generator (generators/fanout.ts) with fewer subscribers than the fan-out
 * row: cluster setup registers every device through NATS KV. WebSocket only
 * (cluster nodes run without WebTransport). No goal in the issue: reported.
 */

import type { Target } from '../generators/systems.ts';
import { Child } from '../lib/child.ts';
import type { MeteredProcess } from '../lib/process-cpu.ts';
import { type Row, saturatedGenerators } from '../lib/report.ts';
import { startPulse, startPulseCluster } from '../lib/servers.ts';
import { median } from '../lib/stats.ts';
import { alternate, CpuTally, metered, type Suite, type Workload } from '../lib/suite.ts';

const SIZES = [64, 1024];

/** One setup under test: its own generators (the fan-out generator counts per system, and both are `pulse-ws`). */
interface Setup {
  readonly label: string;
  readonly servers: readonly MeteredProcess[];
  readonly subscribers: readonly [Child, Child];
  readonly publisher: Child;
  readonly rates: Map<number, number[]>;
  readonly cpu: Map<number, CpuTally>;
  readonly lost: Map<number, number>;
}

async function openSetup(
  label: string,
  servers: readonly MeteredProcess[],
  targets: { readonly sub1: Target; readonly sub2: Target; readonly pub: Target },
  subscribers: number,
  stops: (() => Promise<void>)[],
): Promise<Setup> {
  const generators = await Promise.all(
    ['gen-sub-1', 'gen-sub-2', 'gen-pub'].map((name) => Child.start(name, 'generators/fanout.ts')),
  );
  for (const g of generators) stops.push(() => g.stop());
  const [sub1, sub2, pub] = generators as [Child, Child, Child];
  // One subscriber per node first, alone: a node's first subscriber sets up its follow of the channel,
  // and 16 racing it timed out once (subscribe #2 unanswered in 10 s on node B, in a quick run under CI load).
  await sub1.request('subscribe', { target: targets.sub1, count: 1 });
  await sub2.request('subscribe', { target: targets.sub2, count: 1 });
  const half = Math.floor(subscribers / 2);
  await Promise.all([
    sub1.request('subscribe', { target: targets.sub1, count: half - 1 }),
    sub2.request('subscribe', { target: targets.sub2, count: subscribers - half - 1 }),
  ]);
  await pub.request('publisher', { target: targets.pub });
  return {
    label,
    servers,
    subscribers: [sub1, sub2],
    publisher: pub,
    rates: new Map(),
    cpu: new Map(),
    lost: new Map(),
  };
}

/** One round: `publications` of `bytes`; delivered msgs/s from the first publish to the last delivery. */
async function measure(setup: Setup, publications: number, bytes: number, subscribers: number, suite: Suite) {
  const tally = setup.cpu.get(bytes) ?? new CpuTally();
  setup.cpu.set(bytes, tally);
  const system = 'pulse-ws';
  const processes = [...setup.servers, ...setup.subscribers, setup.publisher];
  const rate = await metered(processes, tally, async () => {
    await Promise.all(setup.subscribers.map((g) => g.request('arm', { system, messages: publications })));
    const timeoutMs = 30_000 + (subscribers * publications) / 2;
    const started = performance.now();
    const waits = setup.subscribers.map((g) =>
      g.request<{ received: number; expected: number }>('wait', { system, timeoutMs }),
    );
    await setup.publisher.request('publish', { system, messages: publications, bytes, batch: 20 });
    const counts = await Promise.all(waits);
    const seconds = (performance.now() - started) / 1000;
    const received = counts.reduce((sum, c) => sum + c.received, 0);
    const expected = counts.reduce((sum, c) => sum + c.expected, 0);
    if (received < expected) setup.lost.set(bytes, (setup.lost.get(bytes) ?? 0) + expected - received);
    return received / seconds;
  });
  suite.log(`cluster-fan-out ${setup.label} ${bytes} B: ${Math.round(rate)} msgs/s`);
  setup.rates.set(bytes, [...(setup.rates.get(bytes) ?? []), rate]);
}

export const clusterFanout: Workload = {
  name: 'cluster-fan-out',
  async run(suite: Suite): Promise<Row[]> {
    const subscribers = Number(process.env.BENCH_CLUSTER_SUBSCRIBERS ?? (suite.quick ? 50 : 200));
    const publications = Number(process.env.BENCH_PUBLICATIONS ?? (suite.quick ? 50 : 200));
    const stops: (() => Promise<void>)[] = [];
    try {
      const single = await startPulse();
      stops.push(async () => void (await single.server.stop()));
      const cluster = await startPulseCluster(2);
      stops.push(() => cluster.stop());
      const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
      const nodeA: Target = { system: 'pulse-ws', url: a.websocketUrl };
      const nodeB: Target = { system: 'pulse-ws', url: b.websocketUrl };
      const one: Target = { system: 'pulse-ws', url: single.websocketUrl };
      suite.log(`cluster-fan-out: ${subscribers} subscribers on each setup`);
      const twoNodes = await openSetup(
        'subscribers split over 2 cluster nodes',
        [
          { name: 'pulse node A', pid: a.pid },
          { name: 'pulse node B', pid: b.pid },
          { name: 'nats-server', pid: cluster.natsPid },
        ],
        { sub1: nodeA, sub2: nodeB, pub: nodeA },
        subscribers,
        stops,
      );
      const oneNode = await openSetup(
        'one node on SQLite',
        [{ name: 'pulse server', pid: single.pid }],
        { sub1: one, sub2: one, pub: one },
        subscribers,
        stops,
      );
      for (let round = 0; round < suite.rounds; round++) {
        for (const bytes of SIZES) {
          for (const setup of alternate([twoNodes, oneNode], round)) {
            await measure(setup, publications, bytes, subscribers, suite);
          }
        }
      }
      return SIZES.map((bytes) => {
        const pulseCpu = twoNodes.cpu.get(bytes)?.shares() ?? [];
        const baselineCpu = oneNode.cpu.get(bytes)?.shares() ?? [];
        const limited = saturatedGenerators([...pulseCpu, ...baselineCpu]);
        const lost = [twoNodes, oneNode]
          .filter((s) => (s.lost.get(bytes) ?? 0) > 0)
          .map((s) => `${s.label} ${s.lost.get(bytes)}`);
        return {
          workload: `cluster fan-out 1 channel × ${subscribers} subscribers, ${bytes} B`,
          pulse: `channel publish, ${twoNodes.label} (WebSocket, NATS R1)`,
          pulseValue: median(twoNodes.rates.get(bytes) ?? []),
          baseline: `channel publish, ${oneNode.label} (WebSocket)`,
          baselineValue: median(oneNode.rates.get(bytes) ?? []),
          unit: 'msgs/s',
          note:
            `publisher on node A, half the subscribers on each node; median of ${suite.rounds} alternating rounds of ${publications} publications, delivered msgs/s. ` +
            "Where the time goes: each publication is two sequential JetStream round trips on node A (read the subject's last message, publish offset+1 expecting it as last: cluster/channels/nats-channel-log.ts), then each node follows the subject with an ordered consumer and fans out to its own subscribers; one node on SQLite appends to its file and fans out in process" +
            (limited.length > 0 ? `; the load generator was the limit: ${limited.join(', ')} saturated` : '') +
            (lost.length > 0 ? `; deliveries missing when rounds timed out: ${lost.join(', ')}` : ''),
          cpu: { pulse: pulseCpu, baseline: baselineCpu },
        };
      });
    } finally {
      for (const stop of stops.reverse()) await stop().catch(() => {});
    }
  },
};
