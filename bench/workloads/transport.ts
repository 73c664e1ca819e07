/**
 * Transport echo (today's `npm run bench:transport`, in a process of its own):
 * Pulse's WebTransport stack against `ws` and against the bare-quiche floor.
 * Goals: WT p50 ≤ 1.1× the floor; WT stream msgs/s ≥ 1.0× WebSocket's.
 */
import type { TransportBenchResult } from '../../webtransport/bench/transport.ts';
import { Child } from '../lib/child.ts';
import type { Row } from '../lib/report.ts';
import { median } from '../lib/stats.ts';
import { CpuTally, metered, type Suite, type Workload } from '../lib/suite.ts';

export const transport: Workload = {
  name: 'transport',
  async run(suite: Suite): Promise<Row[]> {
    const options = suite.quick
      ? { roundTrips: 1_000, pipelined: 10_000, datagrams: 2_000 }
      : { roundTrips: 5_000, pipelined: 50_000, datagrams: 20_000 };
    const child = await Child.start('transport bench', 'generators/library.ts');
    try {
      const cpu = new CpuTally();
      const results: TransportBenchResult[] = [];
      for (let round = 0; round < suite.rounds; round++) {
        const result = await metered([child], cpu, () => child.request<TransportBenchResult>('transport', options));
        suite.log(
          `transport round ${round + 1}: WT p50 ${result.webTransport.p50.toFixed(3)} ms, floor ${result.quicheFloorP50.toFixed(3)} ms, WS ${result.webSocket.p50.toFixed(3)} ms`,
        );
        results.push(result);
      }
      const m = (pick: (r: TransportBenchResult) => number) => median(results.map(pick));
      const note = `${options.roundTrips} round trips and ${options.pipelined} pipelined 64 B messages over one stream, client and server in one process (webtransport/bench/transport.ts); median of ${suite.rounds} runs; UDP echo without QUIC p50 ${m((r) => r.udpP50).toFixed(3)} ms; WT datagrams echoed ${Math.round(m((r) => r.datagrams.perSecond))}/s`;
      const shares = { pulse: cpu.shares(), baseline: cpu.shares() };
      return [
        {
          workload: 'transport echo p50, 64 B',
          pulse: 'WebTransport (HTTP/3 on quiche)',
          pulseValue: m((r) => r.webTransport.p50),
          baseline: 'bare quiche floor (no HTTP/3)',
          baselineValue: m((r) => r.quicheFloorP50),
          unit: 'ms',
          goal: { text: 'WT p50 ≤ 1.1× floor', max: 1.1 },
          note,
          cpu: shares,
        },
        {
          workload: 'transport echo p50, 64 B',
          pulse: 'WebTransport (HTTP/3 on quiche)',
          pulseValue: m((r) => r.webTransport.p50),
          baseline: 'ws',
          baselineValue: m((r) => r.webSocket.p50),
          unit: 'ms',
          note,
        },
        {
          workload: 'transport echo, pipelined 64 B',
          pulse: 'WebTransport stream',
          pulseValue: m((r) => r.webTransport.perSecond),
          baseline: 'ws',
          baselineValue: m((r) => r.webSocket.perSecond),
          unit: 'msgs/s',
          goal: { text: 'WT ≥ 1.0× WS', min: 1 },
          note,
        },
      ];
    } finally {
      await child.stop();
    }
  },
};
