/**
 * 1:1 envelope latency: 2,000 msgs/s of 1 KiB to 10 online devices, send →
 * deliver, p50 and p99, over WebSocket and WebTransport, beside NATS core
 * (publish → subscriber) on loopback. Goal: Pulse's p99 ≤ 2× NATS's.
 */

import type { Target } from '../generators/systems.ts';
import { Child } from '../lib/child.ts';
import type { MeteredProcess } from '../lib/process-cpu.ts';
import { type Row, saturatedGenerators } from '../lib/report.ts';
import { startNats, startPulse } from '../lib/servers.ts';
import { median } from '../lib/stats.ts';
import { alternate, CpuTally, metered, type Suite, type Workload } from '../lib/suite.ts';

const RATE = 2_000;
const DEVICES = 10;
const BYTES = 1024;

interface Path {
  readonly label: string;
  readonly target: Target;
  readonly server: MeteredProcess;
  readonly generator: Child;
  readonly p50: number[];
  readonly p99: number[];
  readonly lost: number[];
  readonly cpu: CpuTally;
}

export const latency: Workload = {
  name: 'latency',
  async run(suite: Suite): Promise<Row[]> {
    const seconds = suite.quick ? 1 : 5;
    const graceMs = suite.quick ? 5_000 : 10_000;
    const stops: (() => Promise<void>)[] = [];
    try {
      const pulse = await startPulse();
      stops.push(async () => void (await pulse.server.stop()));
      const nats = await startNats();
      stops.push(() => nats.stop());
      const pulseServer = { name: 'pulse server', pid: pulse.pid };
      const candidates = [
        {
          label: 'send → deliver, WebSocket',
          target: { system: 'pulse-ws', url: pulse.websocketUrl },
          server: pulseServer,
        },
        {
          label: 'send → deliver, WebTransport',
          target: { system: 'pulse-wt', url: pulse.webtransportUrl, certificateSha256: pulse.certificateSha256 },
          server: pulseServer,
        },
        {
          label: 'NATS core publish → subscriber',
          target: { system: 'nats', url: nats.url },
          server: { name: 'nats-server', pid: nats.pid },
        },
      ] as const;
      const paths: Path[] = [];
      for (const candidate of candidates) {
        try {
          const generator = await Child.start('gen-latency', 'generators/latency.ts');
          stops.push(() => generator.stop());
          await generator.request('open', { target: candidate.target, devices: DEVICES });
          paths.push({ ...candidate, generator, p50: [], p99: [], lost: [], cpu: new CpuTally() });
        } catch (error) {
          suite.fail(`latency ${candidate.target.system}`, error);
        }
      }
      for (let round = 0; round < suite.rounds; round++) {
        for (const path of alternate(paths, round)) {
          const result = await metered([path.server, path.generator], path.cpu, () =>
            path.generator.request<{ p50: number; p99: number; received: number; sent: number }>('run', {
              rate: RATE,
              seconds,
              bytes: BYTES,
              devices: DEVICES,
              graceMs,
            }),
          );
          suite.log(
            `latency ${path.target.system} round ${round + 1}: p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms`,
          );
          path.p50.push(result.p50);
          path.p99.push(result.p99);
          path.lost.push(result.sent - result.received);
        }
      }
      const nat = paths.find((p) => p.target.system === 'nats');
      if (nat === undefined) return [];
      const rows: Row[] = [];
      for (const ours of paths.filter((p) => p !== nat)) {
        const limited = saturatedGenerators([...ours.cpu.shares(), ...nat.cpu.shares()]);
        const lost = ours.lost.reduce((a, b) => a + b, 0) + nat.lost.reduce((a, b) => a + b, 0);
        const note =
          `${RATE} msgs/s of ${BYTES} B for ${seconds} s round robin to ${DEVICES} devices, sender and recipients in one generator process; median of ${suite.rounds} alternating rounds` +
          (lost > 0
            ? `; ${lost} messages did not arrive within ${graceMs / 1000} s of the last send (left out of the percentiles)`
            : '') +
          (limited.length > 0 ? `; the load generator was the limit: ${limited.join(', ')} saturated` : '');
        const workload = `1:1 latency, ${RATE} msgs/s to ${DEVICES} online devices`;
        const cpu = { pulse: ours.cpu.shares(), baseline: nat.cpu.shares() };
        rows.push({
          workload: `${workload}, p50`,
          pulse: ours.label,
          pulseValue: median(ours.p50),
          baseline: nat.label,
          baselineValue: median(nat.p50),
          unit: 'ms',
          note,
          cpu,
        });
        rows.push({
          workload: `${workload}, p99`,
          pulse: ours.label,
          pulseValue: median(ours.p99),
          baseline: nat.label,
          baselineValue: median(nat.p99),
          unit: 'ms',
          goal: { text: 'p99 ≤ 2× NATS', max: 2 },
          note,
          cpu,
        });
      }
      return rows;
    } finally {
      for (const stop of stops.reverse()) await stop().catch(() => {});
    }
  },
};
