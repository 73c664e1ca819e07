/**
 * Crypto (today's `npm run bench:crypto`, in a process of its own): crypto/
 * beside libsignal-client, 1 KiB messages, interleaved rounds. Goals:
 * alternating ≥ 1.0×, one-way burst ≥ 1.5×, session setup ≤ 2× libsignal's time.
 */
import type { CryptoBenchResult } from '../../crypto/bench/bench.ts';
import { Child } from '../lib/child.ts';
import type { Row } from '../lib/report.ts';
import { CpuTally, metered, type Suite, type Workload } from '../lib/suite.ts';

export const crypto: Workload = {
  name: 'crypto',
  async run(suite: Suite): Promise<Row[]> {
    const options = suite.quick
      ? { rounds: 2, chunk: 100, setupsPerRound: 4 }
      : { rounds: 10, chunk: 200, setupsPerRound: 10 };
    const child = await Child.start('crypto bench', 'generators/library.ts');
    try {
      const cpu = new CpuTally();
      const r = await metered([child], cpu, () => child.request<CryptoBenchResult>('crypto', options));
      const perSecond = (count: number, ms: number) => (count / ms) * 1000;
      const note = `${r.messages} messages and ${r.setups} session setups in ${options.rounds} interleaved rounds (crypto/bench/bench.ts), primitives ${r.primitives}`;
      return [
        {
          workload: 'crypto, 1 KiB, alternating',
          pulse: 'crypto/',
          pulseValue: perSecond(r.messages, r.alternating.ours),
          baseline: 'libsignal-client',
          baselineValue: perSecond(r.messages, r.alternating.theirs),
          unit: 'msgs/s',
          goal: { text: '≥ 1.0×', min: 1 },
          note,
          cpu: { pulse: cpu.shares(), baseline: cpu.shares() },
        },
        {
          workload: 'crypto, 1 KiB, one-way burst',
          pulse: 'crypto/',
          pulseValue: perSecond(r.messages, r.burst.ours),
          baseline: 'libsignal-client',
          baselineValue: perSecond(r.messages, r.burst.theirs),
          unit: 'msgs/s',
          goal: { text: '≥ 1.5×', min: 1.5 },
          note,
        },
        {
          workload: 'crypto, session setup',
          pulse: 'crypto/',
          pulseValue: r.setup.ours / r.setups,
          baseline: 'libsignal-client',
          baselineValue: r.setup.theirs / r.setups,
          unit: 'ms',
          goal: { text: '≤ 2× libsignal time', max: 2 },
          note,
        },
      ];
    } finally {
      await child.stop();
    }
  },
};
