import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BATCHES_IN_FLIGHT, CommitQueue, type CommitResult } from '../../src/core/commit-queue.ts';
import { PulseError } from '../../src/core/errors.ts';
import { DEFAULT_LIMITS } from '../../src/core/limits/limits.ts';
import { queueCapsOf } from '../../src/core/policy/queue.ts';
import { type EnvelopeWrite, StoreConflict } from '../../src/core/store.ts';
import { SqliteStore } from '../../src/edge/storage/sqlite-store.ts';
import { ManualClock, ManualScheduler } from '../helpers/fake-ports.ts';

/**
 * What the pipelined group commit relies on from SQLite (issue 15,
 * Store.appendsInCallOrder): appends made before the last one returned commit
 * in call order, a conflict undoing one of them leaves the others, and with
 * several batches at the writer thread the order and the queue cap hold on a
 * real file.
 */
const dir = mkdtempSync(join(tmpdir(), 'pulse-append-order-'));
let n = 0;
const file = () => join(dir, `order-${++n}.db`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = 1_700_000_000_000;
const toBob = (payload: number, queuedAtMost = Number.MAX_SAFE_INTEGER): EnvelopeWrite => ({
  from: { account: 'alice', deviceId: 1 },
  to: 'bob',
  envelopes: [{ deviceId: 1, payload: Uint8Array.of(payload) }],
  serverTime: T0,
  expiresAt: T0 + 60_000,
  deviceIds: [1],
  queuedAtMost: [queuedAtMost],
});

async function openWithAccounts(path: string, maxWritesInFlight?: number): Promise<SqliteStore> {
  const store = new SqliteStore(path, { maxWritesInFlight });
  await store.createAccount('alice', 'a', new Uint8Array(33).fill(1), T0);
  await store.createAccount('bob', 'b', new Uint8Array(33).fill(2), T0);
  return store;
}

describe('SQLite appends in flight together', () => {
  it('commit in call order, also while calls wait for a slot at the writer; a conflict undoes only its own', async () => {
    for (const maxWritesInFlight of [undefined, 1]) {
      const store = await openWithAccounts(file(), maxWritesInFlight);
      const calls = [
        store.appendEnvelopes([toBob(1), toBob(2)]),
        store.appendEnvelopes([toBob(3)]),
        // Its precondition says bob's queue is empty: it conflicts, and nothing of it is stored.
        store.appendEnvelopes([toBob(4, 0)]),
        store.appendEnvelopes([toBob(5)]),
      ];
      const settled = await Promise.allSettled(calls);
      expect(settled.map((call) => (call.status === 'fulfilled' ? call.value : call.reason))).toEqual([
        [['1'], ['2']],
        [['3']],
        expect.any(StoreConflict),
        [['4']],
      ]);
      expect((await store.pending('bob', 1, 0, 10, T0)).map((e) => e.payload[0])).toEqual([1, 2, 3, 5]);
      await store.close();
    }
  });

  it(`keep submission order and the queue cap with ${BATCHES_IN_FLIGHT} group-commit batches at the writer`, async () => {
    const store = Object.assign(await openWithAccounts(file()), { appendsInCallOrder: true });
    // Every append reaches the writer at once; its answer is held until the pipeline is full or
    // every send was submitted (slow decisions merge sends into fewer, larger batches, and sends
    // the cap defers wait for held answers: waiting for a full pipeline alone could wait forever).
    const append = store.appendEnvelopes.bind(store);
    let calls = 0;
    let outstanding = 0;
    let mostOutstanding = 0;
    let open: () => void = () => {};
    const full = new Promise<void>((resolve) => {
      open = resolve;
    });
    store.appendEnvelopes = (writes) => {
      const written = append(writes);
      mostOutstanding = Math.max(mostOutstanding, ++outstanding);
      if (++calls === BATCHES_IN_FLIGHT) open();
      return full.then(() => written).finally(() => outstanding--);
    };
    const scheduler = new ManualScheduler(new ManualClock(T0));
    const queue = new CommitQueue(store, scheduler, queueCapsOf({ ...DEFAULT_LIMITS, queuePerDevice: 30 }));
    const answers: string[] = [];
    for (let i = 1; i <= 40; i++) {
      queue.submit(
        {
          from: { account: 'alice', deviceId: 1 },
          to: 'bob',
          envelopes: [{ deviceId: 1, payload: Uint8Array.of(i) }],
          now: T0,
          expiresAt: T0 + 60_000,
        },
        (result: CommitResult) => answers.push(result instanceof PulseError ? result.code : result.join()),
      );
      if (i % 5 === 0) await scheduler.runIo();
    }
    open();
    await queue.flush();
    // The first batch was held while the next was decided and written: batches overlapped at the writer.
    expect(mostOutstanding).toBeGreaterThanOrEqual(2);
    expect(mostOutstanding).toBeLessThanOrEqual(BATCHES_IN_FLIGHT);
    expect(answers).toEqual([
      ...Array.from({ length: 30 }, (_, i) => String(i + 1)),
      ...Array.from({ length: 10 }, () => 'QUEUE_FULL'),
    ]);
    expect((await store.pending('bob', 1, 0, 100, T0)).map((e) => e.payload[0])).toEqual(
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
    await store.close();
  });
});
