/**
 * Durable sends generator (its own process, so its CPU time is the store's
 * client side): the core's group commit (core/commit-queue.ts) over one Store,
 * SQLite or NATS JetStream, with `senders` concurrent senders each submitting
 * one 1:1 envelope and waiting for its commit (what `sent` waits for). The
 * logic of server/bench/durable-sends.ts, driven over IPC.
 */
import { join } from 'node:path';
import { CommitQueue } from '../../server/src/core/commit-queue.ts';
import { PulseError } from '../../server/src/core/errors.ts';
import type { Store } from '../../server/src/core/store.ts';
import { nodeScheduler } from '../../server/src/edge/ports.ts';
import { NatsStore } from '../../server/src/edge/storage/nats/nats-store.ts';
import { SqliteStore } from '../../server/src/edge/storage/sqlite-store.ts';
import { serveRequests } from '../lib/ipc.ts';

export type DurableStore =
  | { readonly kind: 'sqlite'; readonly dir: string }
  | { readonly kind: 'nats'; readonly url: string };

const T0 = Date.now();
/** Caps opened wide: the row measures the write path, not admission. */
const WIDE_CAPS = {
  perDevice: 1_000_000_000,
  senderBytes: Number.MAX_SAFE_INTEGER,
  accountBytes: Number.MAX_SAFE_INTEGER,
  storageMaxBytes: Number.MAX_SAFE_INTEGER,
  storageMinFreeBytes: 0,
};

let store: Store | undefined;
let rounds = 0;

serveRequests({
  async open({ target }: { target: DurableStore }) {
    store =
      target.kind === 'sqlite'
        ? new SqliteStore(join(target.dir, 'durable-sends.db'))
        : await NatsStore.open({ servers: [target.url], prefix: `bench${process.pid}` });
  },
  /** Answers sends/s and the mean commit time (ms) of `senders` loops over `seconds`. */
  async run({ senders, seconds, bytes }: { senders: number; seconds: number; bytes: number }) {
    const opened = store;
    if (opened === undefined) throw new Error('open first');
    const tag = `r${++rounds}`;
    const payload = new Uint8Array(bytes).fill(7);
    const accounts = Array.from({ length: senders }, (_, i) => `${tag}to${i}`);
    await opened.createAccount(`${tag}from`, 'a', new Uint8Array(33).fill(1), T0);
    for (const account of accounts) await opened.createAccount(account, 'r', new Uint8Array(33).fill(2), T0);
    const queue = new CommitQueue(opened, nodeScheduler, WIDE_CAPS);
    const commit = (to: string) =>
      new Promise<void>((resolve, reject) =>
        queue.submit(
          {
            from: { account: `${tag}from`, deviceId: 1 },
            to,
            envelopes: [{ deviceId: 1, payload }],
            now: T0,
            expiresAt: T0 + 3_600_000,
          },
          (result) => (result instanceof PulseError ? reject(result) : resolve()),
        ),
      );
    let sends = 0;
    let waited = 0;
    const started = performance.now();
    const end = started + seconds * 1000;
    await Promise.all(
      accounts.map(async (to) => {
        while (performance.now() < end) {
          const t = performance.now();
          await commit(to);
          waited += performance.now() - t;
          sends++;
        }
      }),
    );
    return { perSecond: sends / ((performance.now() - started) / 1000), meanMs: waited / sends };
  },
  async close() {
    await store?.close();
  },
});
