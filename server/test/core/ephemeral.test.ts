import type { FrameOf } from '@pulse/proto';
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/core/store.ts';
import { startCore } from '../helpers/core-harness.ts';
import { MemoryStore } from '../helpers/memory-store.ts';

/**
 * `send_ephemeral` in the core alone (PROTOCOL.md "Ephemeral events"): relayed
 * to the devices in the hub, never through the store, budgeted per connection
 * on the core's clock.
 */

const typing = (to: string, deviceIds: number[]): FrameOf<'send_ephemeral'> => ({
  type: 'send_ephemeral',
  to,
  envelopes: deviceIds.map((deviceId) => ({ deviceId, payload: Uint8Array.of(deviceId) })),
});

/** A MemoryStore that records the name of every method called on it. */
function recordingStore(): { store: Store; calls: string[] } {
  const calls: string[] = [];
  const store = new Proxy(new MemoryStore(), {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(property));
        return value.apply(target, args);
      };
    },
  });
  return { store, calls };
}

describe('send_ephemeral in the core', () => {
  it('relays to the connected device, drops the rest, answers nothing, and never calls the store', async () => {
    const { store, calls } = recordingStore();
    const { register, metrics } = startCore({ store });
    const alice = await register('alice');
    const bob = await register('bob');
    calls.length = 0;
    alice.frames.length = 0;

    await alice.send(typing('bob', [1, 2]));
    await alice.send(typing('nobody', [1]));
    await alice.send(typing('alice', [1])); // its own device: never echoed

    expect(calls).toEqual([]);
    expect(alice.frames).toEqual([]);
    const [event, ...more] = bob.take('ephemeral');
    expect(more).toEqual([]);
    expect(event?.from).toEqual({ account: 'alice', deviceId: 1 });
    expect(event?.payload).toEqual(Uint8Array.of(1));
    expect(metrics.count('ephemeral:memory:relayed')).toBe(1);
    expect(metrics.count('ephemeral:memory:offline')).toBe(3);
  });

  it('needs an authenticated connection', async () => {
    const { connect, register } = startCore();
    const bob = await register('bob');
    const stranger = await connect();
    await stranger.send(typing('bob', [1]));
    expect(stranger.frames.at(-1)).toMatchObject({ type: 'error', code: 'AUTH_REQUIRED' });
    expect(bob.take('ephemeral')).toEqual([]);
  });

  it('charges one per device addressed, refills at ephemeral_rate per second, and drops beyond the burst', async () => {
    const { register, clock, metrics } = startCore({ limits: { ephemeralRate: 2, ephemeralBurst: 4 } });
    const alice = await register('alice');
    const bob = await register('bob');
    await alice.send(typing('bob', [1, 1, 1])); // three of four
    await alice.send(typing('bob', [1, 1])); // two more than is left: dropped whole
    await alice.send(typing('bob', [1]));
    expect(bob.take('ephemeral')).toHaveLength(4);
    expect(metrics.count('limit:memory:ephemeral_rate')).toBe(1);

    clock.time += 1_000; // two more
    await alice.send(typing('bob', [1, 1]));
    await alice.send(typing('bob', [1]));
    expect(bob.take('ephemeral')).toHaveLength(2);
    expect(metrics.count('limit:memory:ephemeral_rate')).toBe(2);
    expect(alice.frames.filter((frame) => frame.type === 'error')).toEqual([]);
  });
});
