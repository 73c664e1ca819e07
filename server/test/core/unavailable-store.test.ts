import type { Frame } from '@pulse/proto';
import { describe, expect, it } from 'vitest';
import { StoreUnavailable } from '../../src/core/store.ts';
import { outcome, startCore } from '../helpers/core-harness.ts';
import { MemoryStore } from '../helpers/memory-store.ts';

/**
 * A store that cannot be reached (cluster mode with NATS gone) throws
 * StoreUnavailable: the client hears UNAVAILABLE, never `sent` for what was not
 * stored, and the session goes on once the store is back.
 */
describe('a store that cannot be reached', () => {
  it('answers UNAVAILABLE to sends and to other requests, and serves again once it is back', async () => {
    const store = new MemoryStore();
    const { register, metrics } = startCore({ store });
    const alice = await register('alice');
    await register('bob');
    const down = async () => {
      throw new StoreUnavailable('disconnected from NATS');
    };
    const { appendEnvelopes, listDevices } = store;
    Object.assign(store, { appendEnvelopes: down, listDevices: down });
    const send: Frame = {
      type: 'send',
      id: 0,
      to: 'bob',
      envelopes: [{ deviceId: 1, payload: new Uint8Array([1]) }],
    };
    expect(await alice.request(send)).toMatchObject({ type: 'error', code: 'UNAVAILABLE' });
    expect(outcome(await alice.request({ type: 'device_list', id: 0 }))).toBe('UNAVAILABLE');
    expect(metrics.count('envelopes:stored')).toBe(0);
    Object.assign(store, { appendEnvelopes, listDevices });
    expect(outcome(await alice.request(send))).toBe('sent');
    expect(alice.closedWith).toBeUndefined();
  });
});
