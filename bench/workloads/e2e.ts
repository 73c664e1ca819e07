/**
 * End-to-end encrypted messages/s between two SDK clients (in one generator
 * process, as the ceiling runs both ends in one process), over WebSocket and
 * over WebTransport, beside crypto/'s one-way burst in the same run (encrypt
 * then decrypt, no network, no storage): the ceiling. Goal ≥ 0.5× the ceiling.
 */
import { Child } from '../lib/child.ts';
import { type Row, saturatedGenerators } from '../lib/report.ts';
import { startPulse } from '../lib/servers.ts';
import { median } from '../lib/stats.ts';
import { CpuTally, metered, type Suite, type Workload } from '../lib/suite.ts';

const WINDOW = 32;
const BYTES = 1024;

export const e2e: Workload = {
  name: 'e2e',
  async run(suite: Suite): Promise<Row[]> {
    const messages = suite.quick ? 100 : 300;
    const stops: (() => Promise<void>)[] = [];
    try {
      const pulse = await startPulse();
      stops.push(async () => void (await pulse.server.stop()));
      const ceiling = await Child.start('gen-crypto', 'generators/library.ts');
      stops.push(() => ceiling.stop());
      const server = { name: 'pulse server', pid: pulse.pid };
      const transports = ['websocket', 'webtransport'] as const;
      const clients = new Map<(typeof transports)[number], Child>();
      for (const transport of transports) {
        try {
          const generator = await Child.start(
            `gen-sdk-${transport === 'websocket' ? 'ws' : 'wt'}`,
            'generators/e2e.ts',
          );
          stops.push(() => generator.stop());
          const status = await generator.request('open', { server: pulse.baseUrl, transport });
          suite.log(`e2e ${transport}: clients connected (${JSON.stringify(status)})`);
          clients.set(transport, generator);
        } catch (error) {
          suite.fail(`e2e ${transport}`, error);
        }
      }
      const rates = new Map<string, number[]>();
      const cpu = new Map<string, CpuTally>();
      const record = (key: string, rate: number) => rates.set(key, [...(rates.get(key) ?? []), rate]);
      const tally = (key: string) => {
        const t = cpu.get(key) ?? new CpuTally();
        cpu.set(key, t);
        return t;
      };
      for (let round = 0; round < suite.rounds; round++) {
        const steps: [string, () => Promise<number>][] = [
          [
            'ceiling',
            () => metered([ceiling], tally('ceiling'), () => ceiling.request<number>('cryptoCeiling', { messages })),
          ],
          ...[...clients].map(
            ([transport, generator]) =>
              [
                transport,
                () =>
                  metered([server, generator], tally(transport), () =>
                    generator.request<number>('run', { messages, window: WINDOW, bytes: BYTES }),
                  ),
              ] as [string, () => Promise<number>],
          ),
        ];
        for (const [key, step] of round % 2 === 0 ? steps : steps.reverse()) {
          const rate = await step();
          suite.log(`e2e ${key} round ${round + 1}: ${Math.round(rate)} msgs/s`);
          record(key, rate);
        }
      }
      const ceilingRate = median(rates.get('ceiling') ?? []);
      return [...clients.keys()].map((transport) => {
        const shares = tally(transport).shares();
        const limited = saturatedGenerators(shares);
        return {
          workload: 'end-to-end encrypted 1:1, 1 KiB texts',
          pulse: `two SDK clients, ${transport === 'websocket' ? 'WebSocket' : 'WebTransport'}`,
          pulseValue: median(rates.get(transport) ?? []),
          baseline: 'crypto/ one-way burst (the ceiling)',
          baselineValue: ceilingRate,
          unit: 'msgs/s',
          goal: { text: '≥ 0.5× the ceiling', min: 0.5 },
          note:
            `${messages} texts per round, ${WINDOW} sendText outstanding, both clients in one generator process; median of ${suite.rounds} alternating rounds` +
            (limited.length > 0 ? `; the client process was the limit: ${limited.join(', ')} saturated` : ''),
          cpu: { pulse: shares, baseline: tally('ceiling').shares() },
        };
      });
    } finally {
      for (const stop of stops.reverse()) await stop().catch(() => {});
    }
  },
};
