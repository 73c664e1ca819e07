import { describe, expect, it } from 'vitest';
import { BATCHES_IN_FLIGHT, CommitQueue, type CommitResult } from '../../src/core/commit-queue.ts';
import { PulseError } from '../../src/core/errors.ts';
import { DEFAULT_LIMITS } from '../../src/core/limits/limits.ts';
import { queueCapsOf, type SendRequest } from '../../src/core/policy/queue.ts';
import { ManualClock, ManualScheduler } from '../helpers/fake-ports.ts';
import { MemoryStore } from '../helpers/memory-store.ts';

const send = (to: string, deviceId: number, fill: number): SendRequest => ({
  from: { account: 'alice', deviceId: 1 },
  to,
  envelopes: [{ deviceId, payload: new Uint8Array([fill]) }],
  now: 1,
  expiresAt: 100,
});

/** `slow`: the store answers each write on a later turn of the event loop, as a networked one does. */
async function setup(queueCap = 10, slow = false) {
  const store = new MemoryStore();
  await store.createAccount('alice', 'a', new Uint8Array(33).fill(1), 0);
  await store.createAccount('bob', 'b', new Uint8Array(33).fill(2), 0);
  let writes = 0;
  /** Writes the store has been asked for and not yet answered: the group commit keeps it at most BATCHES_IN_FLIGHT. */
  let writing = 0;
  let mostAtOnce = 0;
  const append = store.appendEnvelopes.bind(store);
  store.appendEnvelopes = async (batch) => {
    writes++;
    mostAtOnce = Math.max(mostAtOnce, ++writing);
    try {
      if (slow) await new Promise((resolve) => setImmediate(resolve));
      return await append(batch);
    } finally {
      writing--;
    }
  };
  const scheduler = new ManualScheduler(new ManualClock(0));
  const queue = new CommitQueue(store, scheduler, queueCapsOf({ ...DEFAULT_LIMITS, queuePerDevice: queueCap }));
  const results: CommitResult[] = [];
  const submit = (request: SendRequest) => queue.submit(request, (result) => results.push(result));
  return { store, scheduler, queue, results, submit, writes: () => writes, mostAtOnce: () => mostAtOnce };
}

describe('group commit (no SQLite)', () => {
  it('gathers the sends of one I/O turn into one write, answering only after it', async () => {
    const { store, scheduler, results, submit, writes } = await setup();
    submit(send('bob', 1, 1));
    submit(send('bob', 1, 2));
    submit(send('bob', 1, 3));
    expect(results).toEqual([]);
    expect(await store.queueLength('bob', 1)).toBe(0);
    await scheduler.runIo();
    expect(writes()).toBe(1);
    expect(results.map((r) => (r instanceof PulseError ? r.code : r.length))).toEqual([1, 1, 1]);
    expect((await store.pending('bob', 1, 0, 10, 0)).map((e) => e.payload[0])).toEqual([1, 2, 3]);
  });

  it('answers a refused send alone, the others of its batch are stored', async () => {
    const { scheduler, results, submit, store } = await setup(1);
    submit(send('bob', 1, 1));
    submit(send('bob', 2, 2));
    submit(send('nobody', 1, 3));
    submit(send('bob', 1, 4));
    await scheduler.runIo();
    expect(results.map((r) => (r instanceof PulseError ? r.code : 'stored'))).toEqual([
      'stored',
      'DEVICES_MISMATCH',
      'NOT_FOUND',
      'QUEUE_FULL',
    ]);
    expect(await store.queueLength('bob', 1)).toBe(1);
  });

  it('answers INTERNAL to every send when the write fails as a whole, storing nothing', async () => {
    const { scheduler, results, submit, store } = await setup();
    store.appendEnvelopes = async () => {
      throw new Error('disk I/O error');
    };
    submit(send('bob', 1, 1));
    submit(send('bob', 1, 2));
    await scheduler.runIo();
    expect(results.map((r) => (r instanceof PulseError ? r.code : 'stored'))).toEqual(['INTERNAL', 'INTERNAL']);
    expect(await store.queueLength('bob', 1)).toBe(0);
  });

  it('answers every sender even when one answer throws; flush commits at once (shutdown)', async () => {
    const { queue, results, store, writes } = await setup();
    queue.submit(send('bob', 1, 1), () => {
      throw new Error('connection gone');
    });
    queue.submit(send('bob', 1, 2), (result) => results.push(result));
    await queue.flush();
    expect(writes()).toBe(1);
    expect(results).toHaveLength(1);
    expect(await store.queueLength('bob', 1)).toBe(2);
    // Nothing pending: no empty write.
    await queue.flush();
    expect(writes()).toBe(1);
  });

  it('sends arriving during a write form the next batch, stored in order (pipelining: commit-pipeline.test.ts)', async () => {
    const { scheduler, queue, results, submit, store, writes, mostAtOnce } = await setup(10, true);
    submit(send('bob', 1, 1));
    // Start the first write, then submit while it is in flight.
    scheduler.afterIo(() => {
      submit(send('bob', 1, 2));
      submit(send('bob', 1, 3));
    });
    const running = queue.flush();
    await scheduler.runIo();
    submit(send('bob', 1, 4));
    await running;
    await queue.flush();
    await scheduler.runIo();
    expect(mostAtOnce()).toBeLessThanOrEqual(BATCHES_IN_FLIGHT);
    expect(writes()).toBeLessThanOrEqual(3);
    expect(results.every((r) => !(r instanceof PulseError))).toBe(true);
    expect((await store.pending('bob', 1, 0, 10, 0)).map((e) => e.payload[0])).toEqual([1, 2, 3, 4]);
  });

  it('flush during a write waits for it and for what was submitted meanwhile (shutdown loses nothing)', async () => {
    const { queue, results, submit, store } = await setup(10, true);
    submit(send('bob', 1, 1));
    const first = queue.flush();
    submit(send('bob', 1, 2));
    await queue.flush();
    expect(results).toHaveLength(2);
    expect(await store.queueLength('bob', 1)).toBe(2);
    await first;
  });
});
