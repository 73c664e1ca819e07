import { describe, expect, it } from 'vitest';
import { CommitQueue, type CommitResult } from '../../src/core/commit-queue.ts';
import { PulseError } from '../../src/core/errors.ts';
import type { SendRequest } from '../../src/core/policy/queue.ts';
import { ManualClock, ManualScheduler } from '../helpers/fake-ports.ts';
import { MemoryStore } from '../helpers/memory-store.ts';

const send = (to: string, deviceId: number, fill: number): SendRequest => ({
  from: { account: 'alice', deviceId: 1 },
  to,
  envelopes: [{ deviceId, payload: new Uint8Array([fill]) }],
  now: 1,
  expiresAt: 100,
});

function setup(queueCap = 10) {
  const store = new MemoryStore();
  store.createAccount('alice', 'a', new Uint8Array(33).fill(1), 0);
  store.createAccount('bob', 'b', new Uint8Array(33).fill(2), 0);
  let writes = 0;
  const append = store.appendEnvelopes.bind(store);
  store.appendEnvelopes = (batch) => {
    writes++;
    return append(batch);
  };
  const scheduler = new ManualScheduler(new ManualClock(0));
  const queue = new CommitQueue(store, scheduler, queueCap);
  const results: CommitResult[] = [];
  const submit = (request: SendRequest) => queue.submit(request, (result) => results.push(result));
  return { store, scheduler, queue, results, submit, writes: () => writes };
}

describe('group commit (no SQLite)', () => {
  it('gathers the sends of one I/O turn into one write, answering only after it', () => {
    const { store, scheduler, results, submit, writes } = setup();
    submit(send('bob', 1, 1));
    submit(send('bob', 1, 2));
    submit(send('bob', 1, 3));
    expect(results).toEqual([]);
    expect(store.queueLength('bob', 1)).toBe(0);
    scheduler.runIo();
    expect(writes()).toBe(1);
    expect(results.map((r) => (r instanceof PulseError ? r.code : r.length))).toEqual([1, 1, 1]);
    expect(store.pending('bob', 1, 0, 10, 0).map((e) => e.payload[0])).toEqual([1, 2, 3]);
  });

  it('answers a refused send alone, the others of its batch are stored', () => {
    const { scheduler, results, submit, store } = setup(1);
    submit(send('bob', 1, 1));
    submit(send('bob', 2, 2));
    submit(send('nobody', 1, 3));
    submit(send('bob', 1, 4));
    scheduler.runIo();
    expect(results.map((r) => (r instanceof PulseError ? r.code : 'stored'))).toEqual([
      'stored',
      'DEVICES_MISMATCH',
      'NOT_FOUND',
      'QUEUE_FULL',
    ]);
    expect(store.queueLength('bob', 1)).toBe(1);
  });

  it('answers INTERNAL to every send when the write fails as a whole, storing nothing', () => {
    const { scheduler, results, submit, store } = setup();
    store.appendEnvelopes = () => {
      throw new Error('disk I/O error');
    };
    submit(send('bob', 1, 1));
    submit(send('bob', 1, 2));
    scheduler.runIo();
    expect(results.map((r) => (r instanceof PulseError ? r.code : 'stored'))).toEqual(['INTERNAL', 'INTERNAL']);
    expect(store.queueLength('bob', 1)).toBe(0);
  });

  it('answers every sender even when one answer throws; flush commits at once (shutdown)', () => {
    const { queue, results, store, writes } = setup();
    queue.submit(send('bob', 1, 1), () => {
      throw new Error('connection gone');
    });
    queue.submit(send('bob', 1, 2), (result) => results.push(result));
    queue.flush();
    expect(writes()).toBe(1);
    expect(results).toHaveLength(1);
    expect(store.queueLength('bob', 1)).toBe(2);
    // Nothing pending: no empty write.
    queue.flush();
    expect(writes()).toBe(1);
  });
});
