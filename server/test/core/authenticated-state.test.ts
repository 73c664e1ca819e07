import { describe, expect, it } from 'vitest';
import { outcome, startCore } from '../helpers/core-harness.ts';
import { MemoryStore } from '../helpers/memory-store.ts';

/** A session counts as authenticated only once the store has recorded the device as seen (issue 11). */
describe('authenticated state', () => {
  it('stays unauthenticated when touchDevice fails: INTERNAL, then AUTH_REQUIRED, nothing attached', async () => {
    const store = new MemoryStore();
    const { connect, register } = startCore({ store });
    const alice = await register('alice');
    await alice.send({ type: 'close', code: 'NORMAL', reason: 'bye' });
    store.touchDevice = async () => {
      throw new Error('SQLITE_FULL');
    };
    const again = await connect();
    const auth = await again.request({
      type: 'auth',
      id: 0,
      account: 'alice',
      deviceId: 1,
      signature: new Uint8Array(64),
    });
    expect(outcome(auth)).toBe('INTERNAL');
    expect(outcome(await again.request({ type: 'sync', id: 0 }))).toBe('AUTH_REQUIRED');
    expect(again.take('deliver')).toEqual([]);
  });
});
