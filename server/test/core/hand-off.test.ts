import { describe, expect, it } from 'vitest';
import { startCore } from '../helpers/core-harness.ts';
import { settle } from '../helpers/fake-ports.ts';
import { MemoryStore } from '../helpers/memory-store.ts';

/**
 * Envelopes committed for an online device are handed to its delivery from
 * memory (delivery.ts, issue 15), never read back from the store, and never
 * twice or out of order against the stored backlog.
 */

const payload = new Uint8Array([1]);

/** A MemoryStore counting `pending` reads, optionally answering them one turn late (as NATS does). */
function countingStore(late = false): MemoryStore & { reads: number } {
  const store = Object.assign(new MemoryStore(), { reads: 0 });
  const pending = store.pending.bind(store);
  store.pending = async (...args) => {
    store.reads++;
    if (late) await settle();
    return pending(...args);
  };
  return store;
}

async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await settle();
}

describe('envelopes for an online device', () => {
  it('come from memory once its backlog is read: no store read per envelope', async () => {
    const store = countingStore();
    const { register, scheduler } = startCore({ store });
    const alice = await register('alice');
    const bob = await register('bob');
    await turns(3);
    const readsAtHead = store.reads;
    for (let i = 0; i < 5; i++)
      alice.post({ type: 'send', id: 10 + i, to: 'bob', envelopes: [{ deviceId: 1, payload }] });
    await scheduler.runIo();
    await turns(3);
    const delivered = bob.take('deliver');
    expect(delivered.map((frame) => frame.envelopeId)).toEqual(['1', '2', '3', '4', '5']);
    bob.post({ type: 'deliver_ack', envelopeIds: delivered.map((frame) => frame.envelopeId) });
    await turns(3);
    expect(store.reads).toBe(readsAtHead);
    expect(await store.queueLength('bob', 1)).toBe(0);
  });

  it('keep commit order behind a stored backlog, each once, when the window is full', async () => {
    for (const late of [false, true]) {
      const store = countingStore(late);
      const { register, scheduler } = startCore({ store, limits: { deliveryWindow: 2 } });
      const alice = await register('alice');
      const bob = await register('bob');
      await turns(3);
      const received: string[] = [];
      /** Takes what arrived, in arrival order, and acknowledges the oldest `count` of it. */
      const receiveAndAck = async (count: number) => {
        const frames = bob.take('deliver');
        received.push(...frames.map((frame) => frame.envelopeId));
        const acked = frames.slice(0, count).map((frame) => frame.envelopeId);
        if (acked.length > 0) bob.post({ type: 'deliver_ack', envelopeIds: acked });
        await turns(4);
        // What was not acknowledged stays in flight: acknowledge it next time.
        if (frames.length > count)
          bob.post({ type: 'deliver_ack', envelopeIds: received.slice(-(frames.length - count)) });
      };
      // Sends in several group commits, landing while the window is full, half full and empty.
      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < 3; i++)
          alice.post({ type: 'send', id: round * 10 + i, to: 'bob', envelopes: [{ deviceId: 1, payload }] });
        await scheduler.runIo();
        await turns(4);
        await receiveAndAck(1);
      }
      for (let i = 0; i < 12; i++) await receiveAndAck(2);
      expect(received).toEqual(Array.from({ length: 12 }, (_, i) => String(i + 1)));
      expect(await store.queueLength('bob', 1)).toBe(0);
    }
  });
});
