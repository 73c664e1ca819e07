import { describe, expect, it } from 'vitest';
import { type Store, StoreConflict } from '../../src/core/store.ts';
import { key, outcome, startCore, T0 } from '../helpers/core-harness.ts';
import { MemoryStore } from '../helpers/memory-store.ts';

/**
 * The rules the core decides (caps, addressing) through the whole core (session,
 * request table, group commit), on the in-memory store: no SQLite anywhere.
 */

const payload = new Uint8Array([1]);
/** A device list update changing nothing but the version (or what `change` does to the devices). */
const listUpdate = (
  current: { version: number; devices: { deviceId: number; identityKey: Uint8Array; name: string; addedAt: number }[] },
  version: number,
  change: (devices: typeof current.devices) => typeof current.devices = (d) => d,
) => ({
  type: 'device_list_update' as const,
  id: 0,
  deviceList: { version, devices: change(current.devices), signature: new Uint8Array(64) },
});

describe('rules: envelopes', () => {
  it('DEVICES_MISMATCH unless a send addresses exactly every device of the recipient', async () => {
    const { register, link } = startCore();
    const alice = await register('alice');
    const bob = await register('bob');
    expect(await link(bob, 'bob', 1)).toBe('ok');
    const send = async (deviceIds: number[]) =>
      outcome(
        await alice.request({
          type: 'send',
          id: 0,
          to: 'bob',
          envelopes: deviceIds.map((deviceId) => ({ deviceId, payload })),
        }),
      );
    expect(await send([1])).toBe('DEVICES_MISMATCH');
    expect(await send([1, 2, 3])).toBe('DEVICES_MISMATCH');
    expect(await send([1, 3])).toBe('DEVICES_MISMATCH');
    expect(await send([2, 1])).toBe('sent');
    expect(
      outcome(await alice.request({ type: 'send', id: 0, to: 'carol', envelopes: [{ deviceId: 1, payload }] })),
    ).toBe('NOT_FOUND');
  });

  it('leaves the sending device out when it writes to its own account', async () => {
    const { register, link } = startCore();
    const alice = await register('alice');
    const own = async (deviceIds: number[]) =>
      outcome(
        await alice.request({
          type: 'send',
          id: 0,
          to: 'alice',
          envelopes: deviceIds.map((deviceId) => ({ deviceId, payload })),
        }),
      );
    // No other device yet: nobody to write to.
    expect(await own([1])).toBe('NOT_FOUND');
    expect(await link(alice, 'alice', 1)).toBe('ok');
    expect(await own([1, 2])).toBe('DEVICES_MISMATCH');
    expect(await own([2])).toBe('sent');
  });

  it('QUEUE_FULL at queue_per_device, counting the sends of the same group commit; acks make room', async () => {
    const { register, scheduler, store, metrics } = startCore({ limits: { queuePerDevice: 3 } });
    const alice = await register('alice');
    await register('bob');
    // Four sends in one group commit: the fourth finds the queue full.
    for (let i = 0; i < 4; i++)
      alice.post({ type: 'send', id: 100 + i, to: 'bob', envelopes: [{ deviceId: 1, payload }] });
    await scheduler.runIo();
    const answers = alice.frames.filter((f) => 'id' in f && (f.id ?? 0) >= 100).map(outcome);
    expect(answers).toEqual(['sent', 'sent', 'sent', 'QUEUE_FULL']);
    expect(await store.queueLength('bob', 1)).toBe(3);
    expect(metrics.count('limit:memory:queue_per_device')).toBe(1);
    const [first] = await store.pending('bob', 1, 0, 1, T0);
    await store.ack('bob', 1, [first!.envelopeId]);
    expect(
      outcome(await alice.request({ type: 'send', id: 0, to: 'bob', envelopes: [{ deviceId: 1, payload }] })),
    ).toBe('sent');
  });
});

describe('rules: devices and prekeys', () => {
  it('refuses a device list beyond max_devices, a changed key, a new device without a link, an old version', async () => {
    const { register, store, link } = startCore({ limits: { maxDevices: 2 } });
    const alice = await register('alice');
    expect(await link(alice, 'alice', 1)).toBe('ok');
    expect(await link(alice, 'alice', 2)).toBe('DEVICE_LIST_INVALID');
    const current = await alice.request({ type: 'device_list', id: 0 });
    if (current.type !== 'devices') throw new Error('no list');
    const list = current.deviceList;
    expect(list.version).toBe(2);
    const rekeyed = listUpdate(list, 3, (d) => d.map((x) => (x.deviceId === 2 ? { ...x, identityKey: key(9) } : x)));
    expect(await alice.request(rekeyed)).toMatchObject({
      code: 'DEVICE_LIST_INVALID',
      message: 'device 2 changed its key',
    });
    const ghost = { deviceId: 9, identityKey: key(99), name: 'ghost', addedAt: T0 };
    expect(
      outcome(await alice.request(listUpdate({ ...list, devices: [list.devices[0]!] }, 3, (d) => [...d, ghost]))),
    ).toBe('DEVICE_LIST_INVALID');
    expect(outcome(await alice.request(listUpdate(list, 2)))).toBe('DEVICE_LIST_STALE');
    expect(await store.listDevices('alice')).toHaveLength(2);
    expect((await store.deviceList('alice'))?.version).toBe(2);
  });

  it('refuses a prekey upload beyond max_prekeys_per_device, storing none of it', async () => {
    const { register, store } = startCore({ limits: { maxPrekeysPerDevice: 2 } });
    const alice = await register('alice');
    const upload = (ids: number[]) =>
      alice.request({
        type: 'prekeys_upload',
        id: 0,
        oneTimePreKeys: ids.map((keyId) => ({ keyId, publicKey: key(keyId) })),
        proof: new Uint8Array(64),
      });
    expect(outcome(await upload([1, 2]))).toBe('ok');
    expect(outcome(await upload([2, 1]))).toBe('ok');
    expect(outcome(await upload([3]))).toBe('FORBIDDEN');
    expect(await store.oneTimePreKeyIds('alice', 1)).toEqual({ ec: [1, 2], pq: [] });
  });
});

/** A store on which another writer acts between the core's reads and its write, `times` times. */
/** The next call of `method` first lets `race` (another writer) write. */
function raceOnce(store: MemoryStore, method: keyof Store, race: () => Promise<unknown>): void {
  const write = store[method] as (...args: unknown[]) => Promise<unknown>;
  Object.assign(store, {
    [method]: async (...args: unknown[]) => {
      Object.assign(store, { [method]: write });
      await race();
      return write.apply(store, args);
    },
  });
}

function racingStore(race: (store: MemoryStore) => Promise<unknown>, method: keyof Store, times = 1): MemoryStore {
  const store = new MemoryStore();
  let left = times;
  let racing = false;
  const write = store[method] as (...args: unknown[]) => Promise<unknown>;
  Object.assign(store, {
    [method]: async (...args: unknown[]) => {
      // The other writer's own write goes straight through.
      if (left > 0 && !racing) {
        left--;
        racing = true;
        try {
          await race(store);
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
  it('a device list stored by another writer meanwhile: the core decides again and refuses the stale one', async () => {
    const store = new MemoryStore();
    const { register, link } = startCore({ store });
    const alice = await register('alice');
    raceOnce(store, 'writeDeviceList', async () => {
      const stored = (await store.deviceList('alice'))!;
      await store.writeDeviceList('alice', { list: { ...stored, version: 2 }, expectedVersion: 1, remove: [] });
    });
    expect(await link(alice, 'alice', 1)).toBe('DEVICE_LIST_STALE');
    expect((await store.listDevices('alice')).map((d) => d.name)).toEqual(['first']);
    expect((await store.deviceList('alice'))?.version).toBe(2);
  });

  it('envelopes queued by another writer meanwhile: the whole batch is decided again (QUEUE_FULL)', async () => {
    const fill = async (s: MemoryStore) =>
      s.appendEnvelopes([
        {
          from: { account: 'carol', deviceId: 1 },
          to: 'bob',
          envelopes: [{ deviceId: 1, payload }],
          serverTime: 0,
          expiresAt: Number.MAX_SAFE_INTEGER,
          deviceIds: [1],
          queuedAtMost: [await s.queueLength('bob', 1)],
        },
      ]);
    const store = racingStore(fill, 'appendEnvelopes', 2);
    const { register } = startCore({ store, limits: { queuePerDevice: 2 } });
    const alice = await register('alice');
    await register('bob');
    expect(
      outcome(await alice.request({ type: 'send', id: 0, to: 'bob', envelopes: [{ deviceId: 1, payload }] })),
    ).toBe('QUEUE_FULL');
    expect(await store.queueLength('bob', 1)).toBe(2);
  });

  it('one-time prekeys stored by another writer meanwhile: the core decides again and refuses', async () => {
    const store = racingStore(
      async (s) =>
        s.storePreKeys(
          'alice',
          1,
          { oneTimePreKeys: [{ keyId: 9, publicKey: key(9) }] },
          await s.oneTimePreKeyIds('alice', 1),
        ),
      'storePreKeys',
    );
    const { register } = startCore({ store, limits: { maxPrekeysPerDevice: 1 } });
    const alice = await register('alice');
    const upload = await alice.request({
      type: 'prekeys_upload',
      id: 0,
      oneTimePreKeys: [{ keyId: 1, publicKey: key(1) }],
      proof: new Uint8Array(64),
    });
    expect(outcome(upload)).toBe('FORBIDDEN');
    expect((await store.oneTimePreKeyIds('alice', 1)).ec).toEqual([9]);
  });

  it('a removal racing another removal: the later list is stale, the account keeps its devices', async () => {
    const store = new MemoryStore();
    const { register, link, unlink } = startCore({ store });
    const alice = await register('alice');
    expect(await link(alice, 'alice', 1)).toBe('ok');
    expect(await link(alice, 'alice', 2)).toBe('ok');
    raceOnce(store, 'writeDeviceList', async () => {
      const stored = (await store.deviceList('alice'))!;
      const devices = stored.devices.filter((d) => d.deviceId !== 1);
      await store.writeDeviceList('alice', {
        list: { ...stored, version: 4, devices },
        expectedVersion: 3,
        remove: [1],
      });
    });
    expect(await unlink(alice, 2)).toBe('DEVICE_LIST_STALE');
    expect((await store.listDevices('alice')).map((d) => d.deviceId)).toEqual([2, 3]);
  });

  it('answers INTERNAL when the store keeps reporting conflicts, and stores nothing', async () => {
    const store = new MemoryStore();
    const conflict = async () => {
      throw new StoreConflict('always');
    };
    const { register, link } = startCore({ store });
    const alice = await register('alice');
    await register('bob');
    Object.assign(store, { appendEnvelopes: conflict, writeDeviceList: conflict });
    expect(
      outcome(await alice.request({ type: 'send', id: 0, to: 'bob', envelopes: [{ deviceId: 1, payload }] })),
    ).toBe('INTERNAL');
    expect(await link(alice, 'alice', 1)).toBe('INTERNAL');
    expect(await store.queueLength('bob', 1)).toBe(0);
  });
});

describe('rules: accounts', () => {
  it('ACCOUNT_EXISTS for a taken name (the store reports the clash)', async () => {
    const { register, connect } = startCore();
    await register('alice');
    const again = await (await connect()).request({
      type: 'register',
      id: 0,
      account: 'alice',
      deviceName: 'x',
      identityKey: key(3),
      signature: new Uint8Array(64),
      accountKey: key(4),
      deviceList: {
        version: 1,
        devices: [{ deviceId: 1, identityKey: key(3), name: 'x', addedAt: T0 }],
        signature: new Uint8Array(64),
      },
    });
    expect(again).toMatchObject({ code: 'ACCOUNT_EXISTS', message: 'the account name alice is taken' });
  });
});
