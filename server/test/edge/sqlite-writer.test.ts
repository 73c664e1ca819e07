import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dialWebSocket, register } from '@pulse/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { type EnvelopeWrite, StoreUnavailable } from '../../src/core/store.ts';
import { SqliteStore } from '../../src/edge/storage/sqlite-store.ts';
import { SqliteWriter } from '../../src/edge/storage/writer/sqlite-writer.ts';
import { startEdgeServer } from './edge-server.ts';

/**
 * The SQLite writer thread (src/edge/storage/writer/): writes and their fsync
 * leave the event loop (issue 15); what a user relies on must hold across the
 * thread boundary: reads see resolved writes, close commits what was sent, a
 * dead writer fails writes with StoreUnavailable (never a hang, never a crash),
 * and the writes in flight stay within their bound.
 */
const dir = mkdtempSync(join(tmpdir(), 'pulse-writer-'));
let n = 0;
const file = () => join(dir, `writer-${++n}.db`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = 1_700_000_000_000;
const toBob = (payload: number): EnvelopeWrite => ({
  from: { account: 'alice', deviceId: 1 },
  to: 'bob',
  envelopes: [{ deviceId: 1, payload: Uint8Array.of(payload) }],
  serverTime: T0,
  expiresAt: T0 + 60_000,
  deviceIds: [1],
  queuedAtMost: [Number.MAX_SAFE_INTEGER],
});

async function openWithAccounts(path: string, maxWritesInFlight?: number): Promise<SqliteStore> {
  const store = new SqliteStore(path, { maxWritesInFlight });
  await store.createAccount('alice', 'a', new Uint8Array(33).fill(1), T0);
  await store.createAccount('bob', 'b', new Uint8Array(33).fill(2), T0);
  return store;
}

describe('SQLite writer thread', () => {
  it('a read made after a write resolved sees it, on the main thread’s own connection', async () => {
    const store = await openWithAccounts(file());
    for (let i = 1; i <= 20; i++) {
      await store.appendEnvelopes([toBob(i)]);
      expect(await store.queueLength('bob', 1)).toBe(i);
    }
    const [first] = await store.pending('bob', 1, 0, 1, T0);
    expect(await store.ack('bob', 1, [first!.envelopeId])).toBe(1);
    expect(await store.queueLength('bob', 1)).toBe(19);
    await store.close();
  });

  it('close commits the writes already made before the file is closed', async () => {
    const path = file();
    const store = await openWithAccounts(path);
    const sent = store.appendEnvelopes([toBob(1), toBob(2)]);
    const acked = store.touchDevice('bob', 1, T0 + 5);
    await store.close();
    expect(await sent).toEqual([['1'], ['2']]);
    await acked;
    await expect(store.touchDevice('bob', 1, T0 + 6)).rejects.toThrow(StoreUnavailable);
    const again = new SqliteStore(path);
    expect(await again.queueLength('bob', 1)).toBe(2);
    expect((await again.getDevice('bob', 1))?.lastSeenAt).toBe(T0 + 5);
    await again.close();
  });

  it('keeps at most maxWritesInFlight writes at the thread; the others wait, in call order', async () => {
    const path = file();
    const store = await openWithAccounts(path, 3);
    // The store's writer: acquiring the same file shares it.
    const writer = SqliteWriter.acquire(path);
    let most = 0;
    const touches = Array.from({ length: 40 }, (_, i) =>
      store.touchDevice('bob', 1, T0 + i).then(() => {
        most = Math.max(most, writer.inFlight);
      }),
    );
    expect(writer.inFlight).toBe(3);
    expect(writer.waiting).toBe(37);
    await Promise.all(touches);
    expect(most).toBeLessThanOrEqual(3);
    expect(writer.inFlight).toBe(0);
    // Carried out in call order: the last touch is the one that stays.
    expect((await store.getDevice('bob', 1))?.lastSeenAt).toBe(T0 + 39);
    await writer.release();
    await store.close();
  });

  it('a writer that dies fails the writes in flight and every later one with StoreUnavailable; reads go on', async () => {
    const path = file();
    const store = await openWithAccounts(path);
    const writer = SqliteWriter.acquire(path);
    const inFlight = store.appendEnvelopes([toBob(1)]);
    await writer.terminate();
    await expect(inFlight).rejects.toThrow(StoreUnavailable);
    await expect(store.appendEnvelopes([toBob(2)])).rejects.toThrow(/SQLite writer stopped/);
    expect(store.writable).toBe(false);
    expect((await store.getDevice('alice', 1))?.name).toBe('a');
    await writer.release();
    await store.close();
  });

  it('a file the writer cannot open fails reads and writes with StoreUnavailable naming the cause', async () => {
    const path = file();
    writeFileSync(path, 'not a database, but long enough to be read as a header of one'.repeat(20));
    const store = new SqliteStore(path);
    await expect(store.listDevices('alice')).rejects.toThrow(/file is not a database/);
    await expect(store.createAccount('alice', 'a', new Uint8Array(33), T0)).rejects.toThrow(StoreUnavailable);
    expect(store.writable).toBe(false);
    await store.close();
  });
});

describe('a server whose SQLite writer died', () => {
  it('answers sends with UNAVAILABLE, says so on /healthz, and keeps serving', async () => {
    const edge = await startEdgeServer({ transport: { webtransport: false } });
    try {
      const dial = () => dialWebSocket(`ws://127.0.0.1:${edge.httpPort}/pulse/ws`);
      const alice = await register(dial());
      const bob = await register(dial());
      const send = (payload: number) =>
        alice.client.request({
          type: 'send',
          id: 0,
          to: bob.account,
          envelopes: [{ deviceId: 1, payload: Uint8Array.of(payload) }],
        });
      expect(await send(1)).toMatchObject({ type: 'sent' });
      expect(await edge.metrics()).toMatch(/^pulse_store_writes_in_flight 0$/m);

      const writer = SqliteWriter.acquire(join(edge.server.node.config.storage.path, 'pulse.db'));
      await writer.terminate();
      expect(await send(2)).toMatchObject({ type: 'error', code: 'UNAVAILABLE' });
      const health = await fetch(`http://127.0.0.1:${edge.httpPort}/healthz`);
      expect(health.status).toBe(503);
      expect(await health.text()).toMatch(/sqlite writer stopped/);
      expect(await edge.metrics()).toMatch(/^pulse_store_available 0$/m);
      // Reads still work: the session is served, not closed.
      expect(await alice.client.request({ type: 'device_list', id: 0 })).toMatchObject({ type: 'devices' });
      await writer.release();
    } finally {
      await edge.stop();
    }
  });
});
