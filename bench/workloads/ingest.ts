/**
 * Durable ingest: envelopes/s acknowledged (`sent`) only after their commit,
 * beside raw better-sqlite3 inserts of the same rows (Pulse's schema and
 * pragmas) in 100-row transactions. Goal ≥ 0.25×.
 */
import { Child } from '../lib/child.ts';
import { type Row, saturatedGenerators } from '../lib/report.ts';
import { startPulse } from '../lib/servers.ts';
import { median } from '../lib/stats.ts';
import { CpuTally, metered, type Suite, type Workload } from '../lib/suite.ts';

const SENDERS = 8;
const OUTSTANDING = 16;
const BYTES = 256;
const BATCH = 100;

export const ingest: Workload = {
  name: 'ingest',
  async run(suite: Suite): Promise<Row[]> {
    const envelopes = suite.quick ? 1_000 : 10_000;
    const stops: (() => Promise<void>)[] = [];
    try {
      const pulse = await startPulse();
      stops.push(async () => void (await pulse.server.stop()));
      const generator = await Child.start('gen-ingest', 'generators/ingest.ts');
      stops.push(() => generator.stop());
      const sqlite = await Child.start('gen-sqlite', 'generators/sqlite-ingest.ts');
      stops.push(() => sqlite.stop());
      await generator.request('open', { target: { system: 'pulse-ws', url: pulse.websocketUrl }, senders: SENDERS });
      const ours: number[] = [];
      const theirs: number[] = [];
      const ourCpu = new CpuTally();
      const theirCpu = new CpuTally();
      const server = { name: 'pulse server', pid: pulse.pid };
      for (let round = 0; round < suite.rounds; round++) {
        const runPulse = async () => {
          const rate = await metered([server, generator], ourCpu, () =>
            generator.request<number>('run', { envelopes, outstanding: OUTSTANDING, bytes: BYTES }),
          );
          ours.push(rate);
          suite.log(`ingest pulse round ${round + 1}: ${Math.round(rate)} envelopes/s`);
        };
        const runSqlite = async () => {
          // Ten times Pulse's count: the baseline is that much faster, and a longer run times it better.
          const rate = await metered([sqlite], theirCpu, () =>
            sqlite.request<number>('run', { rows: envelopes * 10, batch: BATCH, bytes: BYTES }),
          );
          theirs.push(rate);
          suite.log(`ingest sqlite round ${round + 1}: ${Math.round(rate)} rows/s`);
        };
        if (round % 2 === 0) {
          await runPulse();
          await runSqlite();
        } else {
          await runSqlite();
          await runPulse();
        }
      }
      const limited = saturatedGenerators(ourCpu.shares()).filter((name) => name !== 'gen-sqlite');
      return [
        {
          workload: `durable ingest, ${BYTES} B envelopes acked after commit`,
          pulse: `send → sent, WebSocket, ${SENDERS} senders × ${OUTSTANDING} outstanding`,
          pulseValue: median(ours),
          baseline: `raw better-sqlite3 inserts, ${BATCH} rows/transaction`,
          baselineValue: median(theirs),
          unit: 'envelopes/s',
          goal: { text: '≥ 0.25×', min: 0.25 },
          note:
            `${envelopes} envelopes to one offline device per round (baseline: ${envelopes * 10} rows, Pulse's schema, WAL + synchronous=FULL); median of ${suite.rounds} alternating rounds` +
            (limited.length > 0 ? `; the load generator was the limit: ${limited.join(', ')} saturated` : ''),
          cpu: { pulse: ourCpu.shares(), baseline: theirCpu.shares() },
        },
      ];
    } finally {
      for (const stop of stops.reverse()) await stop().catch(() => {});
    }
  },
};
