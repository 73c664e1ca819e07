/**
 * Cluster 1:1 latency (issue 13 "Speed"): two Pulse nodes in cluster mode on
 * one nats-server; send → deliver p50/p99 with the sender on node A and its
 * recipients on node B, at a rate both sustain, beside sender and recipients both on node A, same
 * cluster, same run (the ratio is the cost of the hop between nodes). WebSocket
 * only: cluster nodes run without WebTransport. No goal in the issue: reported.
 */

import type { Target } from '../generators/systems.ts';
import { Child } from '../lib/child.ts';
import type { MeteredProcess } from '../lib/process-cpu.ts';
import { type Row, saturatedGenerators } from '../lib/report.ts';
import { startPulseCluster } from '../lib/servers.ts';
import { median } from '../lib/stats.ts';
import { alternate, CpuTally, metered, type Suite, type Workload } from '../lib/suite.ts';

/**
 * Below what one NATS-backed node commits (durable-nats: a few hundred sends/s
 * on 2 shared cores): at the latency row's 2,000 msgs/s the queues grow and the
 * percentiles measure queueing, not the hop between nodes.
 */
const RATE = 200;
const DEVICES = 10;
const BYTES = 1024;

interface Path {
  readonly label: string;
  readonly generator: Child;
  readonly p50: number[];
  readonly p99: number[];
  readonly lost: number[];
  readonly cpu: CpuTally;
}

export const clusterLatency: Workload = {
  name: 'cluster-latency',
  async run(suite: Suite): Promise<Row[]> {
    const seconds = suite.quick ? 1 : 5;
    const graceMs = suite.quick ? 5_000 : 10_000;
    const stops: (() => Promise<void>)[] = [];
    try {
      const cluster = await startPulseCluster(2);
      stops.push(() => cluster.stop());
      const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
      const nodeA: Target = { system: 'pulse-ws', url: a.websocketUrl };
      const nodeB: Target = { system: 'pulse-ws', url: b.websocketUrl };
      const servers: MeteredProcess[] = [
        { name: 'pulse node A', pid: a.pid },
        { name: 'pulse node B', pid: b.pid },
        { name: 'nats-server', pid: cluster.natsPid },
      ];
      const candidates = [
        { label: 'sender on node A → recipients on node B', target: nodeB, senderTarget: nodeA },
        { label: 'sender and recipients on node A', target: nodeA, senderTarget: nodeA },
      ];
      const paths: Path[] = [];
      for (const candidate of candidates) {
        const generator = await Child.start('gen-latency', 'generators/latency.ts');
        stops.push(() => generator.stop());
        await generator.request('open', {
          target: candidate.target,
          senderTarget: candidate.senderTarget,
          devices: DEVICES,
        });
        paths.push({ label: candidate.label, generator, p50: [], p99: [], lost: [], cpu: new CpuTally() });
      }
      for (let round = 0; round < suite.rounds; round++) {
        for (const path of alternate(paths, round)) {
          const result = await metered([...servers, path.generator], path.cpu, () =>
            path.generator.request<{ p50: number; p99: number; received: number; sent: number }>('run', {
              rate: RATE,
              seconds,
              bytes: BYTES,
              devices: DEVICES,
              graceMs,
            }),
          );
          suite.log(
            `cluster-latency ${path.label} round ${round + 1}: p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms`,
          );
          path.p50.push(result.p50);
          path.p99.push(result.p99);
          path.lost.push(result.sent - result.received);
        }
      }
      const [twoNodes, oneNode] = paths as [Path, Path];
      const limited = saturatedGenerators([...twoNodes.cpu.shares(), ...oneNode.cpu.shares()]);
      const lost = [...twoNodes.lost, ...oneNode.lost].reduce((sum, n) => sum + n, 0);
      const note =
        `2 Pulse nodes in cluster mode on 1 nats-server (JetStream R1), WebSocket; ${RATE} msgs/s of ${BYTES} B for ${seconds} s round robin to ${DEVICES} devices; median of ${suite.rounds} alternating rounds. ` +
        'Where the time goes: both paths append to JetStream first; across nodes node A then publishes a notice on NATS core (cluster/nats-device-bus.ts) and node B reads the envelope back from the stream before it delivers' +
        (lost > 0 ? `; ${lost} messages did not arrive within ${graceMs / 1000} s (left out of the percentiles)` : '') +
        (limited.length > 0 ? `; the load generator was the limit: ${limited.join(', ')} saturated` : '');
      const cpu = { pulse: twoNodes.cpu.shares(), baseline: oneNode.cpu.shares() };
      const workload = `cluster 1:1 latency, ${RATE} msgs/s to ${DEVICES} online devices`;
      return (['p50', 'p99'] as const).map((p) => ({
        workload: `${workload}, ${p}`,
        pulse: twoNodes.label,
        pulseValue: median(twoNodes[p]),
        baseline: oneNode.label,
        baselineValue: median(oneNode[p]),
        unit: 'ms',
        note,
        cpu,
      }));
    } finally {
      for (const stop of stops.reverse()) await stop().catch(() => {});
    }
  },
};
