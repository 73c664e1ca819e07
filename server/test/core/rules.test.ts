import { describe, expect, it } from 'vitest';
import { type Store, StoreConflict } from '../../src/core/store.ts';
import { key, outcome, startCore, T0 } from '../helpers/core-harness.ts';
import { MemoryStore } from '../helpers/memory-store.ts';

/**
 * The rules the core decides (caps, addressing) through the whole core (session,
 * request table, group commit), on the in-memory store: no SQLite anywhere.
 */

const payload = new Uint8Array([1]);
const link = (n: number) => ({
  type: 'device_link' as const,
  id: 0,
  deviceName: `d${n}`,
  identityKey: key(1000 + n),
  signature: new Uint8Array(64),
});

describe('rules: envelopes', () => {
  it('DEVICES_MISMATCH unless a send addresses exactly every device of the recipient', () => {
    const { register } = startCore();
    const alice = register('alice');
    const bob = register('bob');
    expect(outcome(bob.request(link(1)))).toBe('device_linked');
    const send = (deviceIds: number[]) =>
      outcome(
        alice.request({
          type: 'send',
          id: 0,
          to: 'bob',
          envelopes: deviceIds.map((deviceId) => ({ deviceId, payload })),
        }),
      );
    expect(send([1])).toBe('DEVICES_MISMATCH');
    expect(send([1, 2, 3])).toBe('DEVICES_MISMATCH');
    expect(send([1, 3])).toBe('DEVICES_MISMATCH');
    expect(send([2, 1])).toBe('sent');
    expect(outcome(alice.request({ type: 'send', id: 0, to: 'carol', envelopes: [{ deviceId: 1, payload }] }))).toBe(
      'NOT_FOUND',
    );
  });

  it('leaves the sending device out when it writes to its own account', () => {
    const { register } = startCore();
    const alice = register('alice');
    const own = (deviceIds: number[]) =>
      outcome(
        alice.request({
          type: 'send',
          id: 0,
          to: 'alice',
          envelopes: deviceIds.map((deviceId) => ({ deviceId, payload })),
        }),
      );
    // No other device yet: nobody to write to.
    expect(own([1])).toBe('NOT_FOUND');
    expect(outcome(alice.request(link(1)))).toBe('device_linked');
    expect(own([1, 2])).toBe('DEVICES_MISMATCH');
    expect(own([2])).toBe('sent');
  });

  it('QUEUE_FULL at queue_per_device, counting the sends of the same group commit; acks make room', () => {
    const { register, scheduler, store, metrics } = startCore({ limits: { queuePerDevice: 3 } });
    const alice = register('alice');
    register('bob');
    // Four sends in one group commit: the fourth finds the queue full.
    for (let i = 0; i < 4; i++)
      alice.send({ type: 'send', id: 100 + i, to: 'bob', envelopes: [{ deviceId: 1, payload }] });
    scheduler.runIo();
    const answers = alice.frames.filter((f) => 'id' in f && (f.id ?? 0) >= 100).map(outcome);
    expect(answers).toEqual(['sent', 'sent', 'sent', 'QUEUE_FULL']);
    expect(store.queueLength('bob', 1)).toBe(3);
    expect(metrics.count('limit:memory:queue_per_device')).toBe(1);
    const [first] = store.pending('bob', 1, 0, 1, T0);
    store.ack('bob', 1, [first!.envelopeId]);
    expect(outcome(alice.request({ type: 'send', id: 0, to: 'bob', envelopes: [{ deviceId: 1, payload }] }))).toBe(
      'sent',
    );
  });
});

describe('rules: devices and prekeys', () => {
  it('refuses a link beyond max_devices, and a key already linked (FORBIDDEN)', () => {
    const { register, store } = startCore({ limits: { maxDevices: 2 } });
    const alice = register('alice');
    expect(outcome(alice.request(link(1)))).toBe('device_linked');
    expect(alice.request(link(2))).toMatchObject({ code: 'FORBIDDEN', message: 'an account has at most 2 devices' });
    expect(alice.request(link(1))).toMatchObject({
      code: 'FORBIDDEN',
      message: 'this identity key is already linked to the account',
    });
    expect(store.listDevices('alice')).toHaveLength(2);
  });

  it('refuses a prekey upload beyond max_prekeys_per_device, storing none of it', () => {
    const { register, store } = startCore({ limits: { maxPrekeysPerDevice: 2 } });
    const alice = register('alice');
    const upload = (ids: number[]) =>
      alice.request({
        type: 'prekeys_upload',
        id: 0,
        oneTimePreKeys: ids.map((keyId) => ({ keyId, publicKey: key(keyId) })),
      });
    expect(outcome(upload([1, 2]))).toBe('ok');
    expect(outcome(upload([2, 1]))).toBe('ok');
    expect(outcome(upload([3]))).toBe('FORBIDDEN');
    expect(store.oneTimePreKeyIds('alice', 1)).toEqual({ ec: [1, 2], pq: [] });
  });
});

/** A store on which another writer acts between the core's reads and its write, `times` times. */
function racingStore(race: (store: MemoryStore) => void, method: keyof Store, times = 1): MemoryStore {
  const store = new MemoryStore();
  let left = times;
  let racing = false;
  const write = store[method] as (...args: unknown[]) => unknown;
  Object.assign(store, {
    [method]: (...args: unknown[]) => {
      // The other writer's own write goes straight through.
      if (left > 0 && !racing) {
        left--;
        racing = true;
        try {
          race(store);
        } finally {
          racing = false;
        }
      }
      return write.apply(store, args);
    },
  });
  return store;
}

describe('rules: a check-then-write race cannot exceed a cap', () => {
  it('a device linked by another writer meanwhile: the core decides again and refuses', () => {
    const store = racingStore(
      (s) => s.addDevice('alice', { name: 'other', identityKey: key(7), now: 0 }, [1]),
      'addDevice',
    );
    const { register } = startCore({ store, limits: { maxDevices: 2 } });
    const alice = register('alice');
    expect(alice.request(link(1))).toMatchObject({ code: 'FORBIDDEN', message: 'an account has at most 2 devices' });
    expect(store.listDevices('alice').map((d) => d.name)).toEqual(['first', 'other']);
  });

  it('envelopes queued by another writer meanwhile: the whole batch is decided again (QUEUE_FULL)', () => {
    const fill = (s: MemoryStore) =>
      s.appendEnvelopes([
        {
          from: { account: 'carol', deviceId: 1 },
          to: 'bob',
          envelopes: [{ deviceId: 1, payload }],
          serverTime: 0,
          expiresAt: Number.MAX_SAFE_INTEGER,
          deviceIds: [1],
          queuedAtMost: [s.queueLength('bob', 1)],
        },
      ]);
    const store = racingStore(fill, 'appendEnvelopes', 2);
    const { register } = startCore({ store, limits: { queuePerDevice: 2 } });
    const alice = register('alice');
    register('bob');
    expect(outcome(alice.request({ type: 'send', id: 0, to: 'bob', envelopes: [{ deviceId: 1, payload }] }))).toBe(
      'QUEUE_FULL',
    );
    expect(store.queueLength('bob', 1)).toBe(2);
  });

  it('one-time prekeys stored by another writer meanwhile: the core decides again and refuses', () => {
    const store = racingStore(
      (s) =>
        s.storePreKeys(
          'alice',
          1,
          { oneTimePreKeys: [{ keyId: 9, publicKey: key(9) }] },
          s.oneTimePreKeyIds('alice', 1),
        ),
      'storePreKeys',
    );
    const { register } = startCore({ store, limits: { maxPrekeysPerDevice: 1 } });
    const alice = register('alice');
    const upload = alice.request({ type: 'prekeys_upload', id: 0, oneTimePreKeys: [{ keyId: 1, publicKey: key(1) }] });
    expect(outcome(upload)).toBe('FORBIDDEN');
    expect(store.oneTimePreKeyIds('alice', 1).ec).toEqual([9]);
  });

  it('a removal racing another removal never removes the last device', () => {
    const store = racingStore((s) => s.removeDevice('alice', 2, [1, 2, 3]), 'removeDevice');
    const { register } = startCore({ store });
    const alice = register('alice');
    alice.request(link(1));
    alice.request(link(2));
    expect(outcome(alice.request({ type: 'device_remove', id: 0, deviceId: 3 }))).toBe('ok');
    expect(store.listDevices('alice').map((d) => d.deviceId)).toEqual([1]);
    expect(outcome(alice.request({ type: 'device_remove', id: 0, deviceId: 1 }))).toBe('FORBIDDEN');
  });

  it('answers INTERNAL when the store keeps reporting conflicts, and stores nothing', () => {
    const store = new MemoryStore();
    const conflict = () => {
      throw new StoreConflict('always');
    };
    const { register } = startCore({ store });
    const alice = register('alice');
    register('bob');
    Object.assign(store, { appendEnvelopes: conflict, addDevice: conflict });
    expect(outcome(alice.request({ type: 'send', id: 0, to: 'bob', envelopes: [{ deviceId: 1, payload }] }))).toBe(
      'INTERNAL',
    );
    expect(outcome(alice.request(link(1)))).toBe('INTERNAL');
    expect(store.queueLength('bob', 1)).toBe(0);
  });
});

describe('rules: accounts', () => {
  it('ACCOUNT_EXISTS for a taken name (the store reports the clash)', () => {
    const { register, connect } = startCore();
    register('alice');
    const again = connect().request({
      type: 'register',
      id: 0,
      account: 'alice',
      deviceName: 'x',
      identityKey: key(3),
      signature: new Uint8Array(64),
    });
    expect(again).toMatchObject({ code: 'ACCOUNT_EXISTS', message: 'the account name alice is taken' });
  });
});
