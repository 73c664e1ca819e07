import { NatsServer } from '@pulse/testing/cluster';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EnvelopeWrite, StoreConflict, StoreUnavailable } from '../../src/core/store.ts';
import { NatsStore } from '../../src/edge/storage/nats/nats-store.ts';
import { storageSuite } from '../storage-suite.ts';

/**
 * The NATS store against a real nats-server -js (started here on a free port
 * with its own data directory, stopped by pid). Every store of the shared
 * suite gets its own prefix: its own buckets and stream, so each starts empty.
 */

let server: NatsServer;
let stores = 0;
const opened: NatsStore[] = [];

beforeAll(async () => {
  server = await NatsServer.start();
});
afterAll(async () => {
  await Promise.all(opened.map((store) => store.close()));
  await server.remove();
});

async function openStore(prefix = `t${++stores}`): Promise<NatsStore> {
  const store = await NatsStore.open({ servers: [server.url], prefix });
  opened.push(store);
  return store;
}

storageSuite('nats', () => openStore());

const key = (n: number) => new Uint8Array(33).fill(n);
const T0 = 1_700_000_000_000;
const toBob = (queuedAtMost: number, fill: number): EnvelopeWrite => ({
  from: { account: 'alice', deviceId: 1 },
  to: 'bob',
  envelopes: [{ deviceId: 1, payload: new Uint8Array([fill]) }],
  serverTime: T0,
  expiresAt: T0 + 60_000,
  deviceIds: [1],
  queuedAtMost: [queuedAtMost],
});

describe('nats: two nodes on one NATS', () => {
  it('hand out each one-time prekey once when both take at the same time', async () => {
    const prefix = `shared${++stores}`;
    const [a, b] = [await openStore(prefix), await openStore(prefix)];
    await a.createAccount('bob', 'b', key(1), T0);
    const ids = Array.from({ length: 10 }, (_, i) => i + 1);
    const signed = (keyId: number) => ({ keyId, publicKey: key(keyId), signature: new Uint8Array(64) });
    await a.storePreKeys(
      'bob',
      1,
      {
        signedPreKey: signed(100),
        pqLastResortPreKey: signed(101),
        oneTimePreKeys: ids.map((keyId) => ({ keyId, publicKey: key(keyId) })),
      },
      { ec: [], pq: [] },
    );
    const takes = await Promise.all(Array.from({ length: 14 }, (_, i) => (i % 2 === 0 ? a : b).takePreKeys('bob')));
    const handedOut = takes.flatMap((taken) => (taken[0]?.oneTimePreKey ? [taken[0].oneTimePreKey.keyId] : []));
    expect(handedOut.sort((x, y) => x - y)).toEqual(ids);
  });

  it('refuse (StoreConflict) an append decided on a queue another node grew meanwhile', async () => {
    const prefix = `shared${++stores}`;
    const [a, b] = [await openStore(prefix), await openStore(prefix)];
    await a.createAccount('alice', 'a', key(1), T0);
    await a.createAccount('bob', 'b', key(2), T0);
    // Both decided on an empty queue with a cap of 1; only one write may land.
    const results = await Promise.allSettled([a.appendEnvelopes([toBob(0, 1)]), b.appendEnvelopes([toBob(0, 2)])]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await a.queueLength('bob', 1)).toBe(1);
  });

  it('store nothing of a batch that loses a race on any of its queues (what was published is taken back)', async () => {
    const prefix = `shared${++stores}`;
    const [a, b] = [await openStore(prefix), await openStore(prefix)];
    for (const [i, name] of ['alice', 'bob', 'carol'].entries()) await a.createAccount(name, 'd', key(i + 1), T0);
    // Node a writes batches of three envelopes for bob (published one after another), decided on the
    // queue lengths it just read, and one for carol; node b writes single envelopes for bob meanwhile,
    // so a's batches often find bob's queue grown past their decision midway.
    const batch = async (fill: number): Promise<EnvelopeWrite[]> => {
      const [n, m] = [await a.queueLength('bob', 1), await a.queueLength('carol', 1)];
      return [toBob(n, fill), toBob(n + 1, fill + 1), toBob(n + 2, fill + 2), { ...toBob(m, fill + 3), to: 'carol' }];
    };
    const acknowledged: string[] = [];
    let conflicts = 0;
    const attempt = async (store: NatsStore, writes: EnvelopeWrite[]) => {
      try {
        acknowledged.push(...(await store.appendEnvelopes(writes)).flat());
      } catch (error) {
        if (!(error instanceof StoreConflict)) throw error;
        conflicts++;
      }
    };
    let done = false;
    await Promise.all([
      (async () => {
        for (let n = 0; n < 40; n++) await attempt(a, await batch(n * 4));
        done = true;
      })(),
      (async () => {
        for (let n = 0; !done; n++) await attempt(b, [toBob(1_000, 200 + (n % 50))]);
      })(),
    ]);
    const stored = [...(await a.pending('bob', 1, 0, 1_000, T0)), ...(await a.pending('carol', 1, 0, 1_000, T0))].map(
      (e) => e.envelopeId,
    );
    expect(conflicts).toBeGreaterThan(0);
    expect(stored.sort()).toEqual(acknowledged.sort());
  });

  it('go on appending while acknowledgements delete the queue’s last envelope (a deletion takes nothing from the cap)', async () => {
    const prefix = `shared${++stores}`;
    const [a, b] = [await openStore(prefix), await openStore(prefix)];
    await a.createAccount('alice', 'a', key(1), T0);
    await a.createAccount('bob', 'b', key(2), T0);
    let last = (await a.appendEnvelopes([toBob(0, 0)]))[0]![0]!;
    for (let n = 1; n <= 30; n++) {
      // Node b acknowledges bob's last envelope while node a appends the next, decided on a queue of one.
      const [ids] = await Promise.all([a.appendEnvelopes([toBob(1, n)]), b.ack('bob', 1, [last])]);
      last = ids![0]![0]!;
    }
    expect(await a.queueLength('bob', 1)).toBe(1);
  });

  it('see each other’s envelopes: stored on one, delivered and acknowledged on the other', async () => {
    const prefix = `shared${++stores}`;
    const [a, b] = [await openStore(prefix), await openStore(prefix)];
    await a.createAccount('alice', 'a', key(1), T0);
    await a.createAccount('bob', 'b', key(2), T0);
    const id = (await a.appendEnvelopes([toBob(0, 7)]))[0]![0]!;
    const [envelope] = await b.pending('bob', 1, 0, 10, T0);
    expect(envelope).toMatchObject({ envelopeId: id, from: { account: 'alice', deviceId: 1 }, serverTime: T0 });
    expect(envelope?.payload).toEqual(new Uint8Array([7]));
    // Another device cannot delete bob's envelope by naming its id.
    expect(await b.ack('alice', 1, [id])).toBe(0);
    expect(await b.ack('bob', 1, [id])).toBe(1);
    expect(await a.queueLength('bob', 1)).toBe(0);
  });
});

describe('nats: byte counters and usage', () => {
  it('counts queued payload bytes per sender and recipient, down again on ack, expiry and device removal', async () => {
    const store = await openStore();
    await store.createAccount('alice', 'a', key(1), T0);
    await store.createAccount('bob', 'b', key(2), T0);
    await store.addDevice('bob', { name: 'b2', identityKey: key(3), now: T0 }, [1]);
    const both = (fill: number, expiresAt: number): EnvelopeWrite => ({
      ...toBob(100, fill),
      envelopes: [
        { deviceId: 1, payload: new Uint8Array(10).fill(fill) },
        { deviceId: 2, payload: new Uint8Array(30).fill(fill) },
      ],
      deviceIds: [1, 2],
      queuedAtMost: [100, 100],
      expiresAt,
    });
    const [first] = await store.appendEnvelopes([both(1, T0 + 10)]);
    await store.appendEnvelopes([both(2, T0 + 60_000)]);
    expect(await store.queuedBytes('alice')).toEqual({ sent: 80, received: 0 });
    expect(await store.queuedBytes('bob')).toEqual({ sent: 0, received: 80 });
    await store.purgeExpired(T0 + 10);
    expect(await store.queuedBytes('bob')).toEqual({ sent: 0, received: 40 });
    expect(await store.ack('bob', 1, [first![0]!])).toBe(0);
    const [left] = await store.pending('bob', 1, 0, 10, T0);
    await store.ack('bob', 1, [left!.envelopeId]);
    expect(await store.queuedBytes('alice')).toEqual({ sent: 30, received: 0 });
    await store.removeDevice('bob', 2, [1, 2]);
    expect(await store.queuedBytes('alice')).toEqual({ sent: 0, received: 0 });
    expect(await store.queuedBytes('bob')).toEqual({ sent: 0, received: 0 });
    const usage = await store.usage();
    expect(usage.usedBytes).toBeGreaterThan(0);
    expect(usage.freeBytes).toBeGreaterThan(0);
  });
});

describe('nats: losing NATS', () => {
  it('refuses at once with StoreUnavailable while NATS is down, keeps what JetStream acknowledged, and reconnects', async () => {
    const own = await NatsServer.start();
    const changes: boolean[] = [];
    const store = await NatsStore.open({
      servers: [own.url],
      prefix: 'lose',
      onAvailability: (available) => changes.push(available),
    });
    try {
      await store.createAccount('alice', 'a', key(1), T0);
      await store.createAccount('bob', 'b', key(2), T0);
      const id = (await store.appendEnvelopes([toBob(0, 9)]))[0]![0]!;
      expect(store.health()).toMatchObject({ available: true });

      await own.kill();
      await until(() => !store.health().available);
      await expect(store.appendEnvelopes([toBob(1, 10)])).rejects.toThrow(StoreUnavailable);
      await expect(store.listDevices('bob')).rejects.toThrow(StoreUnavailable);
      expect(store.health().detail).toMatch(/disconnected/);

      const again = await own.restart();
      try {
        await until(() => store.health().available);
        // The acknowledged envelope survived the kill -9.
        expect((await store.pending('bob', 1, 0, 10, T0)).map((e) => e.envelopeId)).toEqual([id]);
        expect(changes).toEqual([true, false, true]);
      } finally {
        await again.remove();
      }
    } finally {
      await store.close();
    }
  });
});

/** Waits (polling, bounded) until `condition` holds: the reconnect timing is NATS's, not this test's subject. */
async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
