import { describe, expect, it } from 'vitest';
import { PulseError } from '../src/core/errors.ts';
import type { Store } from '../src/core/store.ts';

const key = (n: number) => new Uint8Array(33).fill(n);
const sig = (n: number) => new Uint8Array(64).fill(n);
const T0 = 1_700_000_000_000;
const DAY = 86_400_000;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof PulseError) return error.code;
    throw error;
  }
  return undefined;
}

/**
 * The ONE storage suite: every Store implementation runs it (storage.test.ts).
 * `open` returns a fresh, empty store.
 */
export function storageSuite(name: string, open: () => Store): void {
  describe(`${name}: accounts and devices`, () => {
    it('creates an account with device 1 and refuses a taken name', () => {
      const store = open();
      const device = store.createAccount('alice', 'phone', key(1), T0);
      expect(device).toMatchObject({ account: 'alice', deviceId: 1, name: 'phone', createdAt: T0 });
      expect(device.identityKey).toEqual(key(1));
      expect(codeOf(() => store.createAccount('alice', 'x', key(2), T0))).toBe('ACCOUNT_EXISTS');
      store.close();
    });

    it('adds devices with increasing ids that are never reused, up to the maximum', () => {
      const store = open();
      store.createAccount('alice', 'phone', key(1), T0);
      expect(store.addDevice('alice', 'laptop', key(2), T0, 3).deviceId).toBe(2);
      expect(codeOf(() => store.addDevice('alice', 'dup', key(2), T0, 3))).toBe('FORBIDDEN');
      expect(store.removeDevice('alice', 2)).toBe(true);
      expect(store.addDevice('alice', 'tablet', key(3), T0, 3).deviceId).toBe(3);
      store.addDevice('alice', 'watch', key(4), T0, 3);
      expect(codeOf(() => store.addDevice('alice', 'tv', key(5), T0, 3))).toBe('FORBIDDEN');
      expect(codeOf(() => store.addDevice('nobody', 'x', key(6), T0, 3))).toBe('NOT_FOUND');
      expect(store.listDevices('alice').map((d) => d.deviceId)).toEqual([1, 3, 4]);
      store.touchDevice('alice', 3, T0 + 5);
      expect(store.getDevice('alice', 3)?.lastSeenAt).toBe(T0 + 5);
      expect(store.getDevice('alice', 2)).toBeUndefined();
      store.close();
    });
  });

  describe(`${name}: envelopes`, () => {
    const setup = () => {
      const store = open();
      store.createAccount('alice', 'a', key(1), T0);
      store.createAccount('bob', 'b1', key(2), T0);
      store.addDevice('bob', 'b2', key(3), T0, 10);
      return store;
    };
    const from = { account: 'alice', deviceId: 1 };
    const toBob = (payload: number, extra: Partial<Parameters<Store['enqueue']>[0]> = {}) => ({
      from,
      to: 'bob',
      envelopes: [
        { deviceId: 1, payload: new Uint8Array([payload]) },
        { deviceId: 2, payload: new Uint8Array([payload, 2]) },
      ],
      now: T0,
      expiresAt: T0 + DAY,
      queueCap: 100,
      ...extra,
    });

    it('stores one envelope per device and returns them in order, with sender metadata', () => {
      const store = setup();
      const first = store.enqueue(toBob(1));
      const second = store.enqueue(toBob(2));
      expect(first).toHaveLength(2);
      const pending = store.pending('bob', 1, 0, 10, T0);
      expect(pending.map((e) => e.envelopeId)).toEqual([first[0], second[0]]);
      expect(pending[0]).toMatchObject({ from, serverTime: T0 });
      expect(pending.map((e) => e.payload[0])).toEqual([1, 2]);
      expect(store.pending('bob', 2, 0, 10, T0).map((e) => e.payload[1])).toEqual([2, 2]);
      // The cursor continues after an id; the limit bounds a page.
      expect(store.pending('bob', 1, Number(first[0]), 10, T0).map((e) => e.envelopeId)).toEqual([second[0]]);
      expect(store.pending('bob', 1, 0, 1, T0)).toHaveLength(1);
      store.close();
    });

    it('refuses envelopes that do not address exactly the devices, atomically', () => {
      const store = setup();
      const partial = { ...toBob(1), envelopes: [{ deviceId: 1, payload: new Uint8Array([1]) }] };
      expect(codeOf(() => store.enqueue(partial))).toBe('DEVICES_MISMATCH');
      expect(codeOf(() => store.enqueue({ ...toBob(1), to: 'carol' }))).toBe('NOT_FOUND');
      expect(store.pending('bob', 1, 0, 10, T0)).toEqual([]);
      // Writing to one's own account addresses the other devices only.
      const own = store.enqueue({
        from: { account: 'bob', deviceId: 1 },
        to: 'bob',
        envelopes: [{ deviceId: 2, payload: new Uint8Array([9]) }],
        now: T0,
        expiresAt: T0 + DAY,
        queueCap: 100,
      });
      expect(own).toHaveLength(1);
      store.close();
    });

    it('refuses beyond the queue cap with QUEUE_FULL and stores nothing of that send', () => {
      const store = setup();
      store.enqueue(toBob(1, { queueCap: 2 }));
      store.enqueue(toBob(2, { queueCap: 2 }));
      expect(codeOf(() => store.enqueue(toBob(3, { queueCap: 2 })))).toBe('QUEUE_FULL');
      expect(store.pending('bob', 1, 0, 10, T0)).toHaveLength(2);
      expect(store.pending('bob', 2, 0, 10, T0)).toHaveLength(2);
      store.close();
    });

    it('group commit: a batch stores each request on its own, refusing only the bad ones', () => {
      const store = setup();
      const results = store.enqueueBatch([
        toBob(1),
        { ...toBob(2), envelopes: [{ deviceId: 1, payload: new Uint8Array([2]) }] },
        toBob(3, { queueCap: 1 }),
        toBob(4),
      ]);
      expect(results[0]).toHaveLength(2);
      expect(results[1]).toBeInstanceOf(PulseError);
      expect((results[1] as PulseError).code).toBe('DEVICES_MISMATCH');
      expect((results[2] as PulseError).code).toBe('QUEUE_FULL');
      expect(results[3]).toHaveLength(2);
      expect(store.pending('bob', 1, 0, 10, T0).map((e) => e.payload[0])).toEqual([1, 4]);
      expect(store.pending('bob', 2, 0, 10, T0).map((e) => e.payload[0])).toEqual([1, 4]);
      store.close();
    });

    it('acknowledgement deletes only the device’s own envelopes', () => {
      const store = setup();
      const [forB1, forB2] = store.enqueue(toBob(1));
      expect(store.ack('bob', 1, [forB2!])).toBe(0);
      expect(store.ack('bob', 1, [forB1!, 'not-a-number', '999999'])).toBe(1);
      expect(store.pending('bob', 1, 0, 10, T0)).toEqual([]);
      expect(store.pending('bob', 2, 0, 10, T0)).toHaveLength(1);
      store.close();
    });

    it('expires envelopes after their TTL', () => {
      const store = setup();
      store.enqueue(toBob(1, { expiresAt: T0 + 10 }));
      store.enqueue(toBob(2, { expiresAt: T0 + DAY }));
      expect(store.pending('bob', 1, 0, 10, T0 + 10).map((e) => e.payload[0])).toEqual([2]);
      const expired = store.purgeExpired(T0 + 10);
      expect(expired).toHaveLength(2);
      expect(expired[0]).toMatchObject({ from, to: { account: 'bob', deviceId: 1 } });
      expect(store.purgeExpired(T0 + 10)).toEqual([]);
      expect(store.pending('bob', 1, 0, 10, T0).map((e) => e.payload[0])).toEqual([2]);
      store.close();
    });

    it('removing a device drops its queue and prekeys', () => {
      const store = setup();
      store.enqueue(toBob(1));
      store.storePreKeys('bob', 2, { oneTimePreKeys: [{ keyId: 1, publicKey: key(9) }] }, 100);
      store.removeDevice('bob', 2);
      expect(store.pending('bob', 2, 0, 10, T0)).toEqual([]);
      expect(store.preKeyCounts('bob', 2)).toEqual({ oneTimePreKeys: 0, pqOneTimePreKeys: 0 });
      expect(store.pending('bob', 1, 0, 10, T0)).toHaveLength(1);
      store.close();
    });
  });

  describe(`${name}: prekeys`, () => {
    const signed = (keyId: number) => ({ keyId, publicKey: key(keyId), signature: sig(keyId) });

    it('hands out each one-time prekey once, then the last-resort PQ key', () => {
      const store = open();
      store.createAccount('bob', 'b1', key(1), T0);
      store.addDevice('bob', 'b2', key(2), T0, 10);
      const counts = store.storePreKeys(
        'bob',
        1,
        {
          signedPreKey: signed(1),
          pqLastResortPreKey: signed(2),
          oneTimePreKeys: [{ keyId: 10, publicKey: key(10) }],
          pqOneTimePreKeys: [signed(20)],
        },
        100,
      );
      expect(counts).toEqual({ oneTimePreKeys: 1, pqOneTimePreKeys: 1 });
      const first = store.takeBundles('bob');
      // Device 2 has no signed prekey: it gets no bundle.
      expect(first.map((b) => b.deviceId)).toEqual([1]);
      expect(first[0]).toMatchObject({
        oneTimePreKey: { keyId: 10 },
        pqPreKey: { keyId: 20 },
        pqPreKeyIsLastResort: false,
        remaining: { oneTimePreKeys: 0, pqOneTimePreKeys: 0 },
      });
      expect(first[0]!.identityKey).toEqual(key(1));
      const second = store.takeBundles('bob');
      expect(second[0]!.oneTimePreKey).toBeUndefined();
      expect(second[0]).toMatchObject({
        pqPreKey: { keyId: 2 },
        pqPreKeyIsLastResort: true,
        signedPreKey: { keyId: 1 },
      });
      store.close();
    });

    it('replaces the signed prekey and refuses more one-time keys than allowed (all or nothing)', () => {
      const store = open();
      store.createAccount('bob', 'b1', key(1), T0);
      store.storePreKeys('bob', 1, { signedPreKey: signed(1), pqLastResortPreKey: signed(2) }, 2);
      store.storePreKeys('bob', 1, { signedPreKey: signed(3) }, 2);
      const many = [1, 2, 3].map((keyId) => ({ keyId, publicKey: key(keyId) }));
      expect(codeOf(() => store.storePreKeys('bob', 1, { oneTimePreKeys: many }, 2))).toBe('FORBIDDEN');
      expect(store.preKeyCounts('bob', 1).oneTimePreKeys).toBe(0);
      expect(store.takeBundles('bob')[0]!.signedPreKey.keyId).toBe(3);
      store.close();
    });
  });
}
