import { describe, expect, it } from 'vitest';
import { type EnvelopeWrite, type Store, StoreConflict } from '../src/core/store.ts';

const key = (n: number) => new Uint8Array(33).fill(n);
const sig = (n: number) => new Uint8Array(64).fill(n);
const T0 = 1_700_000_000_000;
const DAY = 86_400_000;

/** True when `fn` rejects with StoreConflict (and nothing else). */
async function conflicts(fn: () => Promise<unknown>): Promise<boolean> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof StoreConflict) return true;
    throw error;
  }
  return false;
}

const device = (n: number, name = `d${n}`) => ({ name, identityKey: key(n), now: T0 });

/**
 * The ONE storage suite: every Store implementation runs it (storage.test.ts for
 * SQLite, memory-store.test.ts for the tests' in-memory store). It checks reads,
 * writes, atomicity and the preconditions writes carry; the rules themselves
 * (caps, addressing) are the core's and are tested in test/core/.
 * `open` returns a fresh, empty store (or a promise of one).
 */
export function storageSuite(name: string, open: () => Store | Promise<Store>): void {
  describe(`${name}: accounts and devices`, () => {
    it('creates an account with device 1 and refuses a taken name (a uniqueness conflict)', async () => {
      const store = await open();
      const created = await store.createAccount('alice', 'phone', key(1), T0);
      expect(created).toMatchObject({ account: 'alice', deviceId: 1, name: 'phone', createdAt: T0 });
      expect(created.identityKey).toEqual(key(1));
      expect(await conflicts(() => store.createAccount('alice', 'x', key(2), T0))).toBe(true);
      expect(await store.listDevices('alice')).toHaveLength(1);
      await store.close();
    });

    it('adds devices with increasing ids that are never reused', async () => {
      const store = await open();
      await store.createAccount('alice', 'phone', key(1), T0);
      expect((await store.addDevice('alice', device(2, 'laptop'), [1])).deviceId).toBe(2);
      expect(await store.removeDevice('alice', 2, [1, 2])).toBe(true);
      expect((await store.addDevice('alice', device(3, 'tablet'), [1])).deviceId).toBe(3);
      await store.addDevice('alice', device(4, 'watch'), [1, 3]);
      expect((await store.listDevices('alice')).map((d) => d.deviceId)).toEqual([1, 3, 4]);
      expect(await store.listDevices('nobody')).toEqual([]);
      await store.touchDevice('alice', 3, T0 + 5);
      expect((await store.getDevice('alice', 3))?.lastSeenAt).toBe(T0 + 5);
      expect(await store.getDevice('alice', 2)).toBeUndefined();
      expect(await store.removeDevice('alice', 9, [1, 3, 4])).toBe(false);
      await store.close();
    });

    it('writes devices only while the device ids are those the decision saw (else a conflict, nothing written)', async () => {
      const store = await open();
      await store.createAccount('alice', 'phone', key(1), T0);
      // Decided on [1], but device 2 was added meanwhile.
      await store.addDevice('alice', device(2), [1]);
      expect(await conflicts(() => store.addDevice('alice', device(3), [1]))).toBe(true);
      expect(await conflicts(() => store.removeDevice('alice', 2, [1]))).toBe(true);
      expect(await conflicts(() => store.addDevice('nobody', device(5), []))).toBe(true);
      expect((await store.listDevices('alice')).map((d) => d.deviceId)).toEqual([1, 2]);
      // The next id was not used up by the refused write.
      expect((await store.addDevice('alice', device(3), [1, 2])).deviceId).toBe(3);
      await store.close();
    });
  });

  describe(`${name}: signed device lists`, () => {
    const entry = (deviceId: number) => ({ deviceId, identityKey: key(deviceId), name: `d${deviceId}`, addedAt: T0 });
    const list = (version: number, ...ids: number[]) => ({
      accountKey: key(50),
      version,
      devices: ids.map(entry),
      signature: sig(version),
    });

    it('stores the first list, returns it as written, and knows the next device id', async () => {
      const store = await open();
      expect(await store.deviceList('alice')).toBeUndefined();
      expect(await store.nextDeviceId('alice')).toBeUndefined();
      await store.createAccount('alice', 'd1', key(1), T0);
      expect(await store.nextDeviceId('alice')).toBe(2);
      await store.writeDeviceList('alice', { list: list(1, 1), expectedVersion: undefined, remove: [] });
      expect(await store.deviceList('alice')).toEqual(list(1, 1));
      await store.close();
    });

    it('adds the linked device under the id the list gives it and removes dropped ones, in one step', async () => {
      const store = await open();
      await store.createAccount('alice', 'd1', key(1), T0);
      await store.writeDeviceList('alice', { list: list(1, 1), expectedVersion: undefined, remove: [] });
      const add = { deviceId: 3, name: 'd3', identityKey: key(3), now: T0 + 1 };
      await store.writeDeviceList('alice', { list: list(2, 1, 3), expectedVersion: 1, add, remove: [] });
      expect((await store.listDevices('alice')).map((d) => d.deviceId)).toEqual([1, 3]);
      expect(await store.getDevice('alice', 3)).toMatchObject({ name: 'd3', createdAt: T0 + 1 });
      expect(await store.nextDeviceId('alice')).toBe(4);
      await store.writeDeviceList('alice', { list: list(3, 3), expectedVersion: 2, remove: [1] });
      expect((await store.listDevices('alice')).map((d) => d.deviceId)).toEqual([3]);
      expect((await store.deviceList('alice'))?.version).toBe(3);
      await store.close();
    });

    it('writes nothing when the stored version changed or a device id was used before (a conflict)', async () => {
      const store = await open();
      await store.createAccount('alice', 'd1', key(1), T0);
      await store.writeDeviceList('alice', { list: list(1, 1), expectedVersion: undefined, remove: [] });
      expect(
        await conflicts(() =>
          store.writeDeviceList('alice', { list: list(1, 1), expectedVersion: undefined, remove: [] }),
        ),
      ).toBe(true);
      expect(
        await conflicts(() => store.writeDeviceList('alice', { list: list(3, 1), expectedVersion: 2, remove: [] })),
      ).toBe(true);
      const reused = { deviceId: 1, name: 'again', identityKey: key(9), now: T0 };
      expect(
        await conflicts(() =>
          store.writeDeviceList('alice', { list: list(2, 1), expectedVersion: 1, add: reused, remove: [] }),
        ),
      ).toBe(true);
      expect(
        await conflicts(() =>
          store.writeDeviceList('nobody', { list: list(1, 1), expectedVersion: undefined, remove: [] }),
        ),
      ).toBe(true);
      expect(await store.deviceList('alice')).toEqual(list(1, 1));
      expect((await store.listDevices('alice')).map((d) => d.name)).toEqual(['d1']);
      await store.close();
    });
  });

  describe(`${name}: envelopes`, () => {
    const setup = async () => {
      const store = await open();
      await store.createAccount('alice', 'a', key(1), T0);
      await store.createAccount('bob', 'b1', key(2), T0);
      await store.addDevice('bob', device(3, 'b2'), [1]);
      return store;
    };
    const from = { account: 'alice', deviceId: 1 };
    const toBob = (payload: number, extra: Partial<EnvelopeWrite> = {}): EnvelopeWrite => ({
      from,
      to: 'bob',
      envelopes: [
        { deviceId: 1, payload: new Uint8Array([payload]) },
        { deviceId: 2, payload: new Uint8Array([payload, 2]) },
      ],
      serverTime: T0,
      expiresAt: T0 + DAY,
      deviceIds: [1, 2],
      queuedAtMost: [100, 100],
      ...extra,
    });
    const append = async (store: Store, write: EnvelopeWrite) => (await store.appendEnvelopes([write]))[0]!;

    it('stores one envelope per device and returns them in order, with sender metadata', async () => {
      const store = await setup();
      const first = await append(store, toBob(1));
      const second = await append(store, toBob(2));
      expect(first).toHaveLength(2);
      const pending = await store.pending('bob', 1, 0, 10, T0);
      expect(pending.map((e) => e.envelopeId)).toEqual([first[0], second[0]]);
      expect(pending[0]).toMatchObject({ from, serverTime: T0 });
      expect(pending.map((e) => e.payload[0])).toEqual([1, 2]);
      expect((await store.pending('bob', 2, 0, 10, T0)).map((e) => e.payload[1])).toEqual([2, 2]);
      // The cursor continues after an id; the limit bounds a page.
      expect((await store.pending('bob', 1, Number(first[0]), 10, T0)).map((e) => e.envelopeId)).toEqual([second[0]]);
      expect(await store.pending('bob', 1, 0, 1, T0)).toHaveLength(1);
      expect([
        await store.queueLength('bob', 1),
        await store.queueLength('bob', 2),
        await store.queueLength('alice', 1),
      ]).toEqual([2, 2, 0]);
      await store.close();
    });

    it('refuses a write whose recipient devices changed since the decision, atomically', async () => {
      const store = await setup();
      expect(await conflicts(() => append(store, toBob(1, { deviceIds: [1] })))).toBe(true);
      expect(await conflicts(() => append(store, toBob(1, { to: 'carol' })))).toBe(true);
      expect(await store.pending('bob', 1, 0, 10, T0)).toEqual([]);
      // A write to one's own account names all of its devices in the precondition.
      const own = await append(store, {
        from: { account: 'bob', deviceId: 1 },
        to: 'bob',
        envelopes: [{ deviceId: 2, payload: new Uint8Array([9]) }],
        serverTime: T0,
        expiresAt: T0 + DAY,
        deviceIds: [1, 2],
        queuedAtMost: [0],
      });
      expect(own).toHaveLength(1);
      await store.close();
    });

    it('refuses a write to a queue that grew past what the decision saw, storing nothing of it', async () => {
      const store = await setup();
      await append(store, toBob(1, { queuedAtMost: [0, 0] }));
      await append(store, toBob(2, { queuedAtMost: [1, 1] }));
      // Decided on queues of 1: they hold 2 now.
      expect(await conflicts(() => append(store, toBob(3, { queuedAtMost: [1, 5] })))).toBe(true);
      expect(await store.pending('bob', 1, 0, 10, T0)).toHaveLength(2);
      expect(await store.pending('bob', 2, 0, 10, T0)).toHaveLength(2);
      // Fewer than seen (acknowledged meanwhile) is fine.
      const [forB1] = await store.pending('bob', 1, 0, 1, T0);
      await store.ack('bob', 1, [forB1!.envelopeId]);
      expect(await append(store, toBob(4, { queuedAtMost: [2, 2] }))).toHaveLength(2);
      await store.close();
    });

    it('group commit: a batch is written in one step, each write after the ones before it, or not at all', async () => {
      const store = await setup();
      const ids = await store.appendEnvelopes([
        toBob(1, { queuedAtMost: [0, 0] }),
        toBob(2, { queuedAtMost: [1, 1] }),
        toBob(3, { queuedAtMost: [2, 2] }),
      ]);
      expect(ids.map((write) => write.length)).toEqual([2, 2, 2]);
      expect(Number(ids[1]![0])).toBeGreaterThan(Number(ids[0]![0]));
      expect((await store.pending('bob', 1, 0, 10, T0)).map((e) => e.payload[0])).toEqual([1, 2, 3]);
      // The last write's precondition fails: none of the batch is stored.
      const failing = [toBob(4, { queuedAtMost: [3, 3] }), toBob(5, { queuedAtMost: [3, 3] })];
      expect(await conflicts(() => store.appendEnvelopes(failing))).toBe(true);
      expect((await store.pending('bob', 1, 0, 10, T0)).map((e) => e.payload[0])).toEqual([1, 2, 3]);
      expect(await store.appendEnvelopes([])).toEqual([]);
      await store.close();
    });

    it('acknowledgement deletes only the device’s own envelopes', async () => {
      const store = await setup();
      // Ids are per device (they may be equal across devices): an ack names envelopes of its own device only.
      const [forB1] = await append(store, toBob(1));
      expect(await store.ack('bob', 1, [forB1!, 'not-a-number', '999999'])).toBe(1);
      expect(await store.pending('bob', 1, 0, 10, T0)).toEqual([]);
      expect(await store.pending('bob', 2, 0, 10, T0)).toHaveLength(1);
      expect(await store.queueLength('bob', 1)).toBe(0);
      await store.close();
    });

    it('expires envelopes after their TTL', async () => {
      const store = await setup();
      await append(store, toBob(1, { expiresAt: T0 + 10 }));
      await append(store, toBob(2, { expiresAt: T0 + DAY }));
      expect((await store.pending('bob', 1, 0, 10, T0 + 10)).map((e) => e.payload[0])).toEqual([2]);
      const expired = await store.purgeExpired(T0 + 10);
      expect(expired).toHaveLength(2);
      expect(expired[0]).toMatchObject({ from, to: { account: 'bob', deviceId: 1 } });
      expect(await store.purgeExpired(T0 + 10)).toEqual([]);
      expect((await store.pending('bob', 1, 0, 10, T0)).map((e) => e.payload[0])).toEqual([2]);
      await store.close();
    });

    it('stores a sealed envelope with no sender, delivers it sealed, and charges only the recipient', async () => {
      const store = await setup();
      const plain = await append(store, toBob(1));
      const sealed = await append(store, toBob(2, { from: undefined }));
      const pending = await store.pending('bob', 1, 0, 10, T0);
      expect(pending.map((e) => e.envelopeId)).toEqual([plain[0], sealed[0]]);
      expect(pending[0]).toMatchObject({ from });
      expect(pending[1]!.from).toBeUndefined();
      expect(pending[1]!.sealed).toBe(true);
      expect(pending[1]!.payload).toEqual(new Uint8Array([2]));
      // The sender's byte quota counts its named envelopes only; the recipient's counts both.
      expect(await store.queuedBytes('alice')).toEqual({ sent: 3, received: 0 });
      expect(await store.queuedBytes('bob')).toEqual({ sent: 0, received: 6 });
      await store.ack('bob', 1, [sealed[0]!]);
      await store.ack('bob', 2, [sealed[1]!]);
      expect(await store.queuedBytes('alice')).toEqual({ sent: 3, received: 0 });
      expect(await store.queuedBytes('bob')).toEqual({ sent: 0, received: 3 });
      // An expired sealed envelope is reported with no sender to tell.
      await append(store, toBob(3, { from: undefined }));
      const expired = await store.purgeExpired(T0 + DAY);
      expect(expired.map((e) => e.from?.account ?? 'sealed').sort()).toEqual(['alice', 'alice', 'sealed', 'sealed']);
      expect(await store.queuedBytes('alice')).toEqual({ sent: 0, received: 0 });
      expect(await store.queuedBytes('bob')).toEqual({ sent: 0, received: 0 });
      await store.close();
    });

    it('keeps one delivery token verifier per existing account, the last one set', async () => {
      const store = await setup();
      expect(await store.deliveryTokenVerifier('bob')).toBeUndefined();
      await store.setDeliveryTokenVerifier('bob', key(7));
      await store.setDeliveryTokenVerifier('bob', key(8));
      await store.setDeliveryTokenVerifier('nobody', key(9));
      expect(await store.deliveryTokenVerifier('bob')).toEqual(key(8));
      expect(await store.deliveryTokenVerifier('alice')).toBeUndefined();
      expect(await store.deliveryTokenVerifier('nobody')).toBeUndefined();
      await store.close();
    });

    it('removing a device drops its queue and prekeys', async () => {
      const store = await setup();
      await append(store, toBob(1));
      await store.storePreKeys('bob', 2, { oneTimePreKeys: [{ keyId: 1, publicKey: key(9) }] }, { ec: [], pq: [] });
      await store.removeDevice('bob', 2, [1, 2]);
      expect(await store.pending('bob', 2, 0, 10, T0)).toEqual([]);
      expect(await store.preKeyCounts('bob', 2)).toEqual({ oneTimePreKeys: 0, pqOneTimePreKeys: 0 });
      expect(await store.queueLength('bob', 2)).toBe(0);
      expect(await store.pending('bob', 1, 0, 10, T0)).toHaveLength(1);
      await store.close();
    });
  });

  describe(`${name}: prekeys`, () => {
    const signed = (keyId: number) => ({ keyId, publicKey: key(keyId), signature: sig(keyId) });
    const none = { ec: [], pq: [] };

    it('hands out each one-time prekey once, with the signed and last-resort keys', async () => {
      const store = await open();
      await store.createAccount('bob', 'b1', key(1), T0);
      await store.addDevice('bob', device(2, 'b2'), [1]);
      const counts = await store.storePreKeys(
        'bob',
        1,
        {
          signedPreKey: signed(1),
          pqLastResortPreKey: signed(2),
          oneTimePreKeys: [{ keyId: 10, publicKey: key(10) }],
          pqOneTimePreKeys: [signed(20)],
        },
        none,
      );
      expect(counts).toEqual({ oneTimePreKeys: 1, pqOneTimePreKeys: 1 });
      const first = await store.takePreKeys('bob');
      // Device 2 has no signed prekey: nothing is taken for it.
      expect(first.map((b) => b.deviceId)).toEqual([1]);
      expect(first[0]).toMatchObject({
        oneTimePreKey: { keyId: 10 },
        pqOneTimePreKey: { keyId: 20 },
        pqLastResortPreKey: { keyId: 2 },
        remaining: { oneTimePreKeys: 0, pqOneTimePreKeys: 0 },
      });
      expect(first[0]!.identityKey).toEqual(key(1));
      expect(first[0]!.pqOneTimePreKey!.signature).toEqual(sig(20));
      const second = await store.takePreKeys('bob');
      expect(second[0]!.oneTimePreKey).toBeUndefined();
      expect(second[0]!.pqOneTimePreKey).toBeUndefined();
      expect(second[0]).toMatchObject({ pqLastResortPreKey: { keyId: 2 }, signedPreKey: { keyId: 1 } });
      expect(await store.takePreKeys('nobody')).toEqual([]);
      await store.close();
    });

    it('takes the lowest ids first and lists the stored ids in order', async () => {
      const store = await open();
      await store.createAccount('bob', 'b1', key(1), T0);
      const upload = {
        signedPreKey: signed(1),
        pqLastResortPreKey: signed(2),
        oneTimePreKeys: [7, 3, 5].map((keyId) => ({ keyId, publicKey: key(keyId) })),
        pqOneTimePreKeys: [signed(9), signed(8)],
      };
      await store.storePreKeys('bob', 1, upload, none);
      expect(await store.oneTimePreKeyIds('bob', 1)).toEqual({ ec: [3, 5, 7], pq: [8, 9] });
      expect((await store.takePreKeys('bob'))[0]).toMatchObject({
        oneTimePreKey: { keyId: 3 },
        pqOneTimePreKey: { keyId: 8 },
      });
      expect(await store.oneTimePreKeyIds('bob', 1)).toEqual({ ec: [5, 7], pq: [9] });
      await store.close();
    });

    it('hands out each one-time prekey at most once to concurrent takes', async () => {
      const store = await open();
      await store.createAccount('bob', 'b1', key(1), T0);
      const ids = Array.from({ length: 6 }, (_, i) => i + 1);
      const upload = {
        signedPreKey: signed(100),
        pqLastResortPreKey: signed(101),
        oneTimePreKeys: ids.map((keyId) => ({ keyId, publicKey: key(keyId) })),
      };
      await store.storePreKeys('bob', 1, upload, none);
      // Eight takers at once for six keys: six get distinct keys, two get none, none gets one twice.
      const takes = await Promise.all(Array.from({ length: 8 }, () => store.takePreKeys('bob')));
      const handedOut = takes.map((taken) => taken[0]?.oneTimePreKey?.keyId).filter((id) => id !== undefined);
      expect(handedOut.sort((a, b) => a - b)).toEqual(ids);
      expect(takes.every((taken) => taken.length === 1)).toBe(true);
      expect(await store.preKeyCounts('bob', 1)).toEqual({ oneTimePreKeys: 0, pqOneTimePreKeys: 0 });
      await store.close();
    });

    it('replaces the signed prekey and stored ids; writes only while the ids are those the decision saw', async () => {
      const store = await open();
      await store.createAccount('bob', 'b1', key(1), T0);
      await store.storePreKeys('bob', 1, { signedPreKey: signed(1), pqLastResortPreKey: signed(2) }, none);
      await store.storePreKeys('bob', 1, { signedPreKey: signed(3) }, none);
      const many = [1, 2, 3].map((keyId) => ({ keyId, publicKey: key(keyId) }));
      expect(await store.storePreKeys('bob', 1, { oneTimePreKeys: many }, none)).toEqual({
        oneTimePreKeys: 3,
        pqOneTimePreKeys: 0,
      });
      // Id 3 again replaces the stored key 3.
      const again = [{ keyId: 3, publicKey: key(30) }];
      expect(
        (await store.storePreKeys('bob', 1, { oneTimePreKeys: again }, { ec: [1, 2, 3], pq: [] })).oneTimePreKeys,
      ).toBe(3);
      // Decided on no keys, but three are stored: nothing of the upload is written, signed key included.
      expect(
        await conflicts(() =>
          store.storePreKeys(
            'bob',
            1,
            { signedPreKey: signed(4), oneTimePreKeys: [{ keyId: 9, publicKey: key(9) }] },
            none,
          ),
        ),
      ).toBe(true);
      expect(await store.oneTimePreKeyIds('bob', 1)).toEqual({ ec: [1, 2, 3], pq: [] });
      expect((await store.takePreKeys('bob'))[0]!.signedPreKey.keyId).toBe(3);
      await store.close();
    });
  });
}
