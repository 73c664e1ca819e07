/**
 * Durable sends/s on NATS JetStream against SQLite (issue 13 "Speed"): the
 * core's group commit over each Store (generators/durable-sends.ts, the logic
 * of server/bench/durable-sends.ts), one sender and 32 concurrent senders,
 * each waiting for its commit, alternating rounds. NATS: one `nats-server -js`
 * (R1), acknowledged from the page cache (no fsync on 2.9.10); SQLite: WAL,
 * synchronous=FULL. No goal in the issue: reported.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DurableStore } from '../generators/durable-sends.ts';
import { Child } from '../lib/child.ts';
import type { MeteredProcess } from '../lib/process-cpu.ts';
import type { Row } from '../lib/report.ts';
import { startJetStream } from '../lib/servers.ts';
import { median } from '../lib/stats.ts';
import { alternate, CpuTally, metered, type Suite, type Workload } from '../lib/suite.ts';

const SENDER_COUNTS = [1, 32];
const BYTES = 256;

interface Side {
  readonly label: string;
  readonly generator: Child;
  readonly servers: readonly MeteredProcess[];
  readonly rates: Map<number, number[]>;
  readonly commitMs: Map<number, number[]>;
  readonly cpu: Map<number, CpuTally>;
}

async function openSide(
  label: string,
  target: DurableStore,
  servers: readonly MeteredProcess[],
  stops: (() => Promise<void>)[],
): Promise<Side> {
  // Not named gen-…: this process runs Pulse's own commit path, so a saturated core here is Pulse's limit.
  const generator = await Child.start(`pulse commit queue on ${target.kind}`, 'generators/durable-sends.ts');
  stops.push(() => generator.stop());
  await generator.request('open', { target });
  return { label, generator, servers, rates: new Map(), commitMs: new Map(), cpu: new Map() };
}

export const durableNats: Workload = {
  name: 'durable-nats',
  async run(suite: Suite): Promise<Row[]> {
    const seconds = suite.quick ? 1 : 5;
    const stops: (() => Promise<void>)[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'pulse-bench-durable-'));
    stops.push(async () => rmSync(dir, { recursive: true, force: true }));
    try {
      const nats = await startJetStream();
      stops.push(() => nats.stop());
      const onNats = await openSide(
        'NATS JetStream, 1 server (R1)',
        { kind: 'nats', url: nats.url },
        [{ name: 'nats-server', pid: nats.pid }],
        stops,
      );
      const onSqlite = await openSide('SQLite (WAL, synchronous=FULL)', { kind: 'sqlite', dir }, [], stops);
      for (let round = 0; round < suite.rounds; round++) {
        for (const senders of SENDER_COUNTS) {
          for (const side of alternate([onNats, onSqlite], round)) {
            const tally = side.cpu.get(senders) ?? new CpuTally();
            side.cpu.set(senders, tally);
            const result = await metered([...side.servers, side.generator], tally, () =>
              side.generator.request<{ perSecond: number; meanMs: number }>('run', { senders, seconds, bytes: BYTES }),
            );
            suite.log(
              `durable-nats ${side.label}, ${senders} senders, round ${round + 1}: ${Math.round(result.perSecond)} sends/s, commit ${result.meanMs.toFixed(2)} ms`,
            );
            side.rates.set(senders, [...(side.rates.get(senders) ?? []), result.perSecond]);
            side.commitMs.set(senders, [...(side.commitMs.get(senders) ?? []), result.meanMs]);
          }
        }
      }
      return SENDER_COUNTS.map((senders) => ({
        workload: `durable sends, ${BYTES} B 1:1 envelopes, ${senders} sender${senders === 1 ? '' : 's'} each awaiting its commit`,
        pulse: `group commit on ${onNats.label}`,
        pulseValue: median(onNats.rates.get(senders) ?? []),
        baseline: `group commit on ${onSqlite.label}`,
        baselineValue: median(onSqlite.rates.get(senders) ?? []),
        unit: 'sends/s',
        note:
          `core/commit-queue.ts over each Store in its own generator process, ${seconds} s per round, median of ${suite.rounds} alternating rounds; ` +
          `mean commit ${median(onNats.commitMs.get(senders) ?? []).toFixed(2)} ms on NATS, ${median(onSqlite.commitMs.get(senders) ?? []).toFixed(2)} ms on SQLite. ` +
          'Where the time goes: a NATS append is four sequential stages of JetStream round trips (device check with the last-sequence read, stream info for the queue counts, the publish awaiting its ack, the byte counters in KV: storage/nats/envelope-queue.ts), where SQLite is one transaction and one fsync per batch',
        cpu: { pulse: onNats.cpu.get(senders)?.shares() ?? [], baseline: onSqlite.cpu.get(senders)?.shares() ?? [] },
      }));
    } finally {
      for (const stop of stops.reverse()) await stop().catch(() => {});
    }
  },
};
