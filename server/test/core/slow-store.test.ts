import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/core/store.ts';
import { outcome, startCore } from '../helpers/core-harness.ts';
import { settle } from '../helpers/fake-ports.ts';
import { MemoryStore } from '../helpers/memory-store.ts';

/**
 * The core on a store that answers on a later turn of the event loop, as a
 * networked store (NATS) does: what the in-memory store, answering at once,
 * would never show.
 */

const payload = new Uint8Array([1]);

/** A MemoryStore whose `method` answers one event-loop turn late. */
function slowStore(...methods: (keyof Store)[]): MemoryStore {
  const store = new MemoryStore();
  for (const method of methods) {
    const original = (store[method] as (...args: unknown[]) => Promise<unknown>).bind(store);
    Object.assign(store, {
      [method]: async (...args: unknown[]) => {
        await settle();
        return original(...args);
      },
    });
  }
  return store;
}

/** Lets the late answers arrive (each takes one turn). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await settle();
}

describe('a store that answers late', () => {
  it('delivers each envelope once when pumps overlap (one commit wakes the recipient several times)', async () => {
    const store = slowStore('pending');
    const { register, scheduler } = startCore({ store });
    const alice = await register('alice');
    const bob = await register('bob');
    // Five sends in one group commit: its callbacks wake bob's delivery five times while reads are in flight.
    for (let i = 0; i < 5; i++)
      alice.post({ type: 'send', id: 10 + i, to: 'bob', envelopes: [{ deviceId: 1, payload }] });
    await scheduler.runIo();
    // And a `sync` racing the pumps.
    bob.post({ type: 'sync', id: 99 });
    await turns(10);
    const ids = bob.take('deliver').map((frame) => frame.envelopeId);
    // The sync restarts the cursor, so some envelopes come twice by design; before it, none may.
    const beforeSync = ids.slice(0, 5);
    expect(new Set(beforeSync).size).toBe(5);
    const [done] = bob.take('sync_done');
    expect(ids).toHaveLength(5 + (done?.delivered ?? 0));
    expect(done?.delivered).toBe(5);
  });

  it('handles the frames of one connection in arrival order, each after the previous one answered', async () => {
    const store = slowStore('listDevices', 'getDevice');
    const { register } = startCore({ store });
    const alice = await register('alice');
    alice.post({ type: 'device_list', id: 1 });
    alice.post({ type: 'ping', nonce: 7 });
    alice.post({ type: 'sync', id: 2 });
    await turns(10);
    const order = alice.frames.map((frame) => frame.type).filter((type) => type !== 'deliver');
    expect(order.slice(-3)).toEqual(['devices', 'pong', 'sync_done']);
  });

  it('answers each send only after its write, keeping the order of one sender', async () => {
    const store = slowStore('appendEnvelopes', 'queueLength', 'listDevices');
    const { register, scheduler, clock } = startCore({ store });
    const alice = await register('alice');
    await register('bob');
    for (let i = 0; i < 3; i++)
      alice.post({ type: 'send', id: 20 + i, to: 'bob', envelopes: [{ deviceId: 1, payload }] });
    expect(alice.take('sent')).toEqual([]);
    await scheduler.runIo();
    await turns(10);
    await scheduler.runIo();
    expect(alice.take('sent').map((frame) => frame.id)).toEqual([20, 21, 22]);
    const queued = await store.pending('bob', 1, 0, 10, clock.time);
    expect(queued.map((e) => Number(e.envelopeId))).toEqual([1, 2, 3]);
  });

  it('refuses frames beyond rate_burst waiting for the store (RATE_LIMITED), holding none of them', async () => {
    const store = new MemoryStore();
    const { register, clock, metrics } = startCore({ store, limits: { rate: 1_000, rateBurst: 3 } });
    const alice = await register('alice');
    // From now on the store never answers a device list.
    Object.assign(store, { listDevices: () => new Promise(() => {}) });
    clock.time += 1_000;
    for (let i = 0; i < 3; i++) alice.post({ type: 'device_list', id: 30 + i });
    clock.time += 1_000;
    alice.post({ type: 'device_list', id: 40 });
    await turns(3);
    expect(alice.frames.filter((frame) => frame.type === 'error').map(outcome)).toEqual(['RATE_LIMITED']);
    expect(alice.take('error')[0]).toMatchObject({ id: 40 });
    expect(metrics.count('limit:memory:waiting_frames')).toBe(1);
  });
});
