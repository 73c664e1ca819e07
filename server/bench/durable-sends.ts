/**
 * Durable sends per second, SQLite against NATS JetStream (issue 13 "Speed"):
 * the group commit (core/commit-queue.ts) over each Store, with `senders`
 * concurrent senders each sending one 1:1 envelope at a time and waiting for
 * its commit (what `sent` waits for). Same machine, same run, same load; the
 * figures are ratios, not absolutes.
 *
 *   node --import tsx server/bench/durable-sends.ts [--seconds 5] [--senders 1,32] [--cluster]
 *
 * --cluster adds a 3-server NATS cluster with R3 (writes acknowledged by a quorum).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, NatsServer } from '@pulse/testing/cluster';
import { CommitQueue } from '../src/core/commit-queue.ts';
import { PulseError } from '../src/core/errors.ts';
import type { Store } from '../src/core/store.ts';
import { nodeScheduler } from '../src/edge/ports.ts';
import { NatsStore } from '../src/edge/storage/nats/nats-store.ts';
import { SqliteStore } from '../src/edge/storage/sqlite-store.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    senders: { type: 'string', default: '1,32' },
    cluster: { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const senderCounts = values.senders.split(',').map(Number);
const PAYLOAD = new Uint8Array(256).fill(7);
const T0 = Date.now();

interface Result {
  readonly sends: number;
  readonly perSecond: number;
  readonly meanMs: number;
}

/** `senders` loops, each: submit one send, wait for its commit, again; for `seconds`. */
async function run(store: Store, senders: number, tag: string): Promise<Result> {
  const accounts = Array.from({ length: senders }, (_, i) => `${tag}r${i}`);
  await store.createAccount(`${tag}alice`, 'a', new Uint8Array(33).fill(1), T0);
  for (const account of accounts) await store.createAccount(account, 'r', new Uint8Array(33).fill(2), T0);
  const queue = new CommitQueue(store, nodeScheduler, {
    perDevice: 1_000_000_000,
    senderBytes: Number.MAX_SAFE_INTEGER,
    accountBytes: Number.MAX_SAFE_INTEGER,
    storageMaxBytes: Number.MAX_SAFE_INTEGER,
    storageMinFreeBytes: 0,
  });
  const commit = (to: string) =>
    new Promise<void>((resolve, reject) =>
      queue.submit(
        {
          from: { account: `${tag}alice`, deviceId: 1 },
          to,
          envelopes: [{ deviceId: 1, payload: PAYLOAD }],
          now: T0,
          expiresAt: T0 + 3_600_000,
        },
        (result) => (result instanceof PulseError ? reject(result) : resolve()),
      ),
    );
  let sends = 0;
  let latency = 0;
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    accounts.map(async (to) => {
      while (performance.now() < end) {
        const t = performance.now();
        await commit(to);
        latency += performance.now() - t;
        sends++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return { sends, perSecond: sends / elapsed, meanMs: latency / sends };
}

async function startCluster(): Promise<NatsServer[]> {
  const ports = [await freePort(), await freePort(), await freePort()];
  const routes = ports.map((port) => `nats-route://127.0.0.1:${port}`);
  return Promise.all(
    ports.map((port, i) =>
      NatsServer.start({
        serverName: `b${i + 1}`,
        cluster: { name: 'pulse-bench', port, routes: routes.filter((_, j) => j !== i) },
      }),
    ),
  );
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-bench-sends-'));
  const single = await NatsServer.start();
  const cluster = values.cluster ? await startCluster() : [];
  const rows: string[][] = [];
  try {
    for (const senders of senderCounts) {
      const stores: [string, () => Promise<Store>][] = [
        ['sqlite (WAL, synchronous=FULL)', async () => new SqliteStore(join(dir, `s${senders}.db`))],
        ['nats, 1 server (R1)', () => NatsStore.open({ servers: [single.url], prefix: `b${senders}` })],
      ];
      if (cluster.length > 0) {
        stores.push([
          'nats, 3-server cluster (R3)',
          () => NatsStore.open({ servers: cluster.map((s) => s.url), replicas: 3, prefix: `c${senders}` }),
        ]);
      }
      let baseline: number | undefined;
      for (const [name, open] of stores) {
        const store = await open();
        const result = await run(store, senders, `s${senders}`);
        await store.close();
        baseline ??= result.perSecond;
        rows.push([
          name,
          String(senders),
          result.perSecond.toFixed(0),
          result.meanMs.toFixed(2),
          (result.perSecond / baseline).toFixed(2),
        ]);
      }
    }
  } finally {
    await single.remove();
    await Promise.all(cluster.map((server) => server.remove()));
    rmSync(dir, { recursive: true, force: true });
  }
  const header = ['store', 'senders', 'durable sends/s', 'mean commit ms', 'vs sqlite'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ');
  console.log(line(header));
  for (const row of rows) console.log(line(row));
}

await main();
