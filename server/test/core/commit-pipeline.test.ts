import { describe, expect, it } from 'vitest';
import { BATCHES_IN_FLIGHT, CommitQueue, type CommitResult } from '../../src/core/commit-queue.ts';
import { PulseError } from '../../src/core/errors.ts';
import { DEFAULT_LIMITS, type ServerLimits } from '../../src/core/limits/limits.ts';
import { DECISION_ATTEMPTS } from '../../src/core/policy/conflicts.ts';
import { queueCapsOf, type SendRequest } from '../../src/core/policy/queue.ts';
import { type EnvelopeWrite, StoreConflict, StoreUnavailable } from '../../src/core/store.ts';
import { startCore } from '../helpers/core-harness.ts';
import { ManualClock, ManualScheduler, settle } from '../helpers/fake-ports.ts';
import { MemoryStore } from '../helpers/memory-store.ts';

/**
 * The group commit pipelined (issue 15): the next batch is decided and handed
 * to the store while the last one commits, on a store whose writes the test
 * finishes by hand, and every rule of the one-batch-at-a-time queue still holds.
 */

interface Call {
  readonly writes: readonly EnvelopeWrite[];
  resolve(ids: string[][]): void;
  reject(error: unknown): void;
}

/** A MemoryStore whose appends wait for the test: `commit(i)` stores call i, `answer(i)` returns it. */
function handStore(ordered: boolean) {
  const store = Object.assign(new MemoryStore(), { appendsInCallOrder: ordered });
  const append = store.appendEnvelopes.bind(store);
  const calls: Call[] = [];
  const committed = new Map<number, string[][]>();
  store.appendEnvelopes = (writes) => new Promise((resolve, reject) => calls.push({ writes, resolve, reject }));
  /** Stores call i (checking its preconditions, as the store does inside its transaction). */
  const commit = async (i: number): Promise<void> => {
    committed.set(i, await append(calls[i]!.writes));
  };
  const answer = (i: number): void => calls[i]!.resolve(committed.get(i)!);
  const finish = async (i: number): Promise<void> => {
    await commit(i);
    answer(i);
  };
  const fail = (i: number, error: unknown): void => calls[i]!.reject(error);
  return { store, calls, commit, answer, finish, fail };
}

async function setup(options: { ordered?: boolean; limits?: Partial<ServerLimits> } = {}) {
  const hand = handStore(options.ordered ?? true);
  for (const account of ['alice', 'bob', 'carol'])
    await hand.store.createAccount(account, 'd', new Uint8Array(33).fill(account.length), 0);
  const scheduler = new ManualScheduler(new ManualClock(0));
  const queue = new CommitQueue(hand.store, scheduler, queueCapsOf({ ...DEFAULT_LIMITS, ...options.limits }));
  /** Answers in the order they came: [payload byte, ids or error code]. */
  const answers: [number, string][] = [];
  const submit = (request: SendRequest) =>
    queue.submit(request, (result: CommitResult) =>
      answers.push([request.envelopes[0]!.payload[0]!, result instanceof PulseError ? result.code : result.join()]),
    );
  return { ...hand, scheduler, queue, answers, submit };
}

const send = (fill: number, to = 'bob', bytes = 1): SendRequest => ({
  from: { account: 'alice', deviceId: 1 },
  to,
  envelopes: [{ deviceId: 1, payload: new Uint8Array(bytes).fill(fill) }],
  now: 1,
  expiresAt: 100,
});

describe('pipelined group commit', () => {
  it('hands batch 2 to the store before batch 1 returns, and answers batch 1 first', async () => {
    const { scheduler, calls, commit, answer, answers, submit } = await setup();
    submit(send(1));
    await scheduler.runIo();
    submit(send(2));
    submit(send(3));
    await scheduler.runIo();
    expect(calls.map((call) => call.writes.length)).toEqual([1, 2]);
    // The store commits in call order; batch 2's reply comes first.
    await commit(0);
    await commit(1);
    answer(1);
    await scheduler.runIo();
    expect(answers).toEqual([]);
    answer(0);
    await scheduler.runIo();
    expect(answers).toEqual([
      [1, '1'],
      [2, '2'],
      [3, '3'],
    ]);
  });

  it('counts the batches in flight against the queue cap: two that fit alone but not together', async () => {
    const { scheduler, calls, finish, answers, submit, store } = await setup({ limits: { queuePerDevice: 3 } });
    submit(send(1));
    submit(send(2));
    await scheduler.runIo();
    submit(send(3));
    submit(send(4));
    await scheduler.runIo();
    // Send 3 fits with the two in flight; send 4 fits the reads (nothing stored yet) but not with them: it waits.
    expect(calls).toHaveLength(2);
    expect(calls[1]!.writes.map((write) => write.queuedAtMost)).toEqual([[2]]);
    await finish(0);
    await finish(1);
    await scheduler.runIo();
    // Decided again on reads that show both batches: refused, never stored past the cap.
    expect(answers).toEqual([
      [1, '1'],
      [2, '2'],
      [3, '3'],
      [4, 'QUEUE_FULL'],
    ]);
    expect(await store.queueLength('bob', 1)).toBe(3);
    // Had batch 1 failed instead, the send that waited would have fitted: waiting is not refusing.
    const again = await setup({ limits: { queuePerDevice: 3 } });
    again.submit(send(1));
    again.submit(send(2));
    await again.scheduler.runIo();
    again.submit(send(3));
    again.submit(send(4));
    await again.scheduler.runIo();
    again.fail(0, new StoreUnavailable('disk gone'));
    await again.finish(1);
    await again.scheduler.runIo();
    await again.finish(2);
    await again.scheduler.runIo();
    expect(again.answers).toEqual([
      [1, 'UNAVAILABLE'],
      [2, 'UNAVAILABLE'],
      [3, '1'],
      [4, '2'],
    ]);
  });

  it('counts the batches in flight against the byte quotas', async () => {
    const { scheduler, calls, finish, answers, submit } = await setup({
      limits: { senderQueuedBytes: 250, accountQueuedBytes: 1_000_000 },
    });
    submit(send(1, 'bob', 100));
    await scheduler.runIo();
    submit(send(2, 'carol', 100));
    submit(send(3, 'bob', 100));
    await scheduler.runIo();
    expect(calls.map((call) => call.writes.length)).toEqual([1, 1]);
    await finish(0);
    await finish(1);
    await scheduler.runIo();
    expect(answers.map(([fill, result]) => `${fill}:${result}`)).toEqual(['1:1', '2:1', '3:QUOTA_EXCEEDED']);
  });

  it('fails only the batch whose write failed; a later one in flight is answered by its own outcome, in order', async () => {
    const { scheduler, finish, fail, answers, submit, store } = await setup();
    submit(send(1));
    await scheduler.runIo();
    submit(send(2));
    await scheduler.runIo();
    submit(send(3));
    await scheduler.runIo();
    await finish(1);
    await finish(2);
    fail(0, new StoreUnavailable('the store is gone'));
    await scheduler.runIo();
    expect(answers).toEqual([
      [1, 'UNAVAILABLE'],
      [2, '1'],
      [3, '2'],
    ]);
    expect((await store.pending('bob', 1, 0, 10, 0)).map((e) => e.payload[0])).toEqual([2, 3]);
  });

  it('decides a conflicting batch again after those in flight, answering in commit order', async () => {
    const { scheduler, calls, finish, fail, answers, submit } = await setup();
    submit(send(1));
    await scheduler.runIo();
    submit(send(2));
    await scheduler.runIo();
    await finish(1);
    fail(0, new StoreConflict('the devices of bob changed'));
    await scheduler.runIo();
    expect(calls).toHaveLength(3);
    await finish(2);
    await scheduler.runIo();
    // Envelope ids rise in the order the answers (and the hand-offs to delivery) go out.
    expect(answers).toEqual([
      [2, '1'],
      [1, '2'],
    ]);
  });

  it('decides the sends of two conflicting batches again in submission order', async () => {
    const { store, scheduler, calls, finish, fail, answers, submit } = await setup();
    submit(send(1));
    await scheduler.runIo();
    submit(send(2));
    await scheduler.runIo();
    // A third batch's reads are held while both batches in flight conflict.
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const usage = store.usage.bind(store);
    store.usage = () => held.then(usage);
    submit(send(3));
    await scheduler.runIo();
    fail(0, new StoreConflict('the devices of bob changed'));
    fail(1, new StoreConflict('the devices of bob changed'));
    await scheduler.runIo();
    release();
    await scheduler.runIo();
    expect(calls.map((call) => call.writes.map((write) => write.envelopes[0]!.payload[0]))).toEqual([
      [1],
      [2],
      [3],
      [1, 2],
    ]);
    await finish(2);
    await finish(3);
    await scheduler.runIo();
    expect(answers).toEqual([
      [3, '1'],
      [1, '2'],
      [2, '3'],
    ]);
  });

  it(`answers INTERNAL after ${DECISION_ATTEMPTS} conflicts`, async () => {
    const { scheduler, calls, fail, answers, submit } = await setup();
    submit(send(1));
    for (let attempt = 0; attempt < DECISION_ATTEMPTS; attempt++) {
      await scheduler.runIo();
      fail(attempt, new StoreConflict('changed again'));
    }
    await scheduler.runIo();
    expect(calls).toHaveLength(DECISION_ATTEMPTS);
    expect(answers).toEqual([[1, 'INTERNAL']]);
  });

  it(`keeps at most ${BATCHES_IN_FLIGHT} batches at the store; what arrives meanwhile forms one batch`, async () => {
    const { scheduler, calls, finish, answers, submit } = await setup();
    for (let i = 1; i <= BATCHES_IN_FLIGHT + 3; i++) {
      submit(send(i));
      await scheduler.runIo();
    }
    expect(calls).toHaveLength(BATCHES_IN_FLIGHT);
    await finish(0);
    await scheduler.runIo();
    expect(calls).toHaveLength(BATCHES_IN_FLIGHT + 1);
    expect(calls[BATCHES_IN_FLIGHT]!.writes).toHaveLength(3);
    for (let i = 1; i <= BATCHES_IN_FLIGHT; i++) await finish(i);
    await scheduler.runIo();
    expect(answers.map(([fill]) => fill)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(answers.map(([, ids]) => ids)).toEqual(['1', '2', '3', '4', '5', '6', '7']);
  });

  it('flush waits for every batch in flight and every send waiting (shutdown loses nothing)', async () => {
    const { scheduler, queue, calls, finish, answers, submit } = await setup({ limits: { queuePerDevice: 2 } });
    submit(send(1));
    await scheduler.runIo();
    submit(send(2));
    submit(send(3));
    let flushed = false;
    const flushing = queue.flush().then(() => {
      flushed = true;
    });
    await scheduler.runIo();
    expect(calls).toHaveLength(2);
    await finish(0);
    await scheduler.runIo();
    expect(flushed).toBe(false);
    await finish(1);
    await flushing;
    expect(answers.map(([fill, result]) => `${fill}:${result}`)).toEqual(['1:1', '2:2', '3:QUEUE_FULL']);
  });

  it('on a store that does not order appends, writes a device’s next batch only after its last, others at once', async () => {
    const { scheduler, calls, finish, answers, submit } = await setup({ ordered: false });
    submit(send(1, 'bob'));
    await scheduler.runIo();
    submit(send(2, 'carol'));
    submit(send(3, 'bob'));
    submit(send(4, 'carol'));
    await scheduler.runIo();
    // Carol's first send goes at once; bob's second waits for bob's first, and carol's second stays behind it.
    expect(calls.map((call) => call.writes.map((write) => write.to))).toEqual([['bob'], ['carol']]);
    await finish(1);
    await scheduler.runIo();
    expect(calls).toHaveLength(2);
    await finish(0);
    await scheduler.runIo();
    // Bob's first is answered, so his second goes; carol's second waits until her first is answered too.
    expect(calls.map((call) => call.writes.map((write) => write.to))).toEqual([['bob'], ['carol'], ['bob'], ['carol']]);
    await finish(2);
    await finish(3);
    await scheduler.runIo();
    expect(answers.map(([fill, result]) => `${fill}:${result}`)).toEqual(['1:1', '2:1', '3:2', '4:2']);
  });

  it('hands committed envelopes to an online device in commit order when a later batch returns first', async () => {
    const hand = handStore(true);
    const { register, scheduler } = startCore({ store: hand.store });
    const alice = await register('alice');
    const bob = await register('bob');
    for (let i = 0; i < 3; i++) await settle();
    const payload = new Uint8Array([7]);
    alice.post({ type: 'send', id: 10, to: 'bob', envelopes: [{ deviceId: 1, payload }] });
    await scheduler.runIo();
    alice.post({ type: 'send', id: 11, to: 'bob', envelopes: [{ deviceId: 1, payload }] });
    alice.post({ type: 'send', id: 12, to: 'bob', envelopes: [{ deviceId: 1, payload }] });
    await scheduler.runIo();
    expect(hand.calls).toHaveLength(2);
    await hand.commit(0);
    await hand.commit(1);
    hand.answer(1);
    await scheduler.runIo();
    expect(alice.take('sent')).toEqual([]);
    hand.answer(0);
    await scheduler.runIo();
    for (let i = 0; i < 3; i++) await settle();
    expect(alice.take('sent').map((frame) => [frame.id, frame.envelopeIds])).toEqual([
      [10, ['1']],
      [11, ['2']],
      [12, ['3']],
    ]);
    // Each once, in order, from memory: had batch 2 been handed off first, envelope 1 would be behind the cursor.
    expect(bob.take('deliver').map((frame) => frame.envelopeId)).toEqual(['1', '2', '3']);
  });
});
