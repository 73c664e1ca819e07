import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/edge/storage/sqlite-store.ts';

const T0 = 1_700_000_000_000;
const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

/** A store in a fresh directory, with accounts `alice` (sender) and `bob` (recipient, device 1). */
async function open(): Promise<{ store: SqliteStore; path: string; directory: string }> {
  const parent = mkdtempSync(join(tmpdir(), 'pulse-hygiene-'));
  directories.push(parent);
  const directory = join(parent, 'data');
  const path = join(directory, 'pulse.db');
  const store = new SqliteStore(path);
  await store.createAccount('alice', 'a', new Uint8Array(33).fill(1), T0);
  await store.createAccount('bob', 'b', new Uint8Array(33).fill(2), T0);
  return { store, path, directory };
}

/** Stores `count` envelopes alice → bob/1 carrying `payload`, expiring at T0 + 10. */
async function append(store: SqliteStore, payload: Uint8Array, count = 1): Promise<void> {
  const writes = Array.from({ length: count }, () => ({
    from: { account: 'alice', deviceId: 1 },
    to: 'bob',
    envelopes: [{ deviceId: 1, payload }],
    serverTime: T0,
    expiresAt: T0 + 10,
    deviceIds: [1],
    queuedAtMost: [Number.MAX_SAFE_INTEGER],
  }));
  await store.appendEnvelopes(writes);
}

const contains = (file: string, marker: Buffer) => existsSync(file) && readFileSync(file).includes(marker);

/** What SQLite keeps on disk after a delete (issue 11: "Acked envelopes stay in free pages and the WAL"). */
describe('SQLite store files', () => {
  it('creates the database and its WAL mode 0600 in a 0700 directory', async () => {
    const { store, path, directory } = await open();
    await append(store, new Uint8Array(10));
    expect(statSync(directory).mode & 0o777).toBe(0o700);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(`${path}-wal`).mode & 0o777).toBe(0o600);
    await store.close();
  });

  it('leaves no trace of a purged envelope in the database file or the WAL (secure_delete, WAL truncated)', async () => {
    const { store, path } = await open();
    const marker = Buffer.from('pulse-hygiene-marker-0123456789abcdef');
    await append(store, new Uint8Array(Buffer.concat([marker, Buffer.alloc(3000, 0x41)])));
    expect(await store.purgeExpired(T0 + 10)).toHaveLength(1);
    expect(contains(path, marker)).toBe(false);
    expect(contains(`${path}-wal`, marker)).toBe(false);
    await store.close();
  });

  it('purges in bounded batches: other writes commit between them', async () => {
    const { store } = await open();
    await append(store, new Uint8Array(8), 2_500);
    const settled: string[] = [];
    const purge = store.purgeExpired(T0 + 10).finally(() => settled.push('purge'));
    // A write made meanwhile commits with the first batch, not after the whole purge.
    await store.touchDevice('bob', 1, T0 + 1).finally(() => settled.push('touch'));
    // Read between two batches: the first 1,000 are gone, the rest not yet.
    expect(await store.queueLength('bob', 1)).toBe(1_500);
    expect(await purge).toHaveLength(2_500);
    expect(settled).toEqual(['touch', 'purge']);
    expect(await store.queueLength('bob', 1)).toBe(0);
    await store.close();
  });

  it('counts the queued bytes of each account as sender and as recipient', async () => {
    const { store } = await open();
    await append(store, new Uint8Array(100), 3);
    expect(await store.queuedBytes('alice')).toEqual({ sent: 300, received: 0 });
    expect(await store.queuedBytes('bob')).toEqual({ sent: 0, received: 300 });
    const [first] = await store.pending('bob', 1, 0, 1, T0);
    await store.ack('bob', 1, [first!.envelopeId]);
    expect(await store.queuedBytes('bob')).toEqual({ sent: 0, received: 200 });
    const usage = await store.usage();
    expect(usage.usedBytes).toBeGreaterThan(0);
    expect(usage.freeBytes).toBeGreaterThan(0);
    await store.close();
  });

  it("numbers envelopes per recipient device: an id reveals nothing of others' traffic", async () => {
    const { store } = await open();
    await store.createAccount('carol', 'c', new Uint8Array(33).fill(3), T0);
    const write = (to: string, fill: number) => ({
      from: { account: 'alice', deviceId: 1 },
      to,
      envelopes: [{ deviceId: 1, payload: Uint8Array.of(fill) }],
      serverTime: T0,
      expiresAt: T0 + 10,
      deviceIds: [1],
      queuedAtMost: [Number.MAX_SAFE_INTEGER],
    });
    for (let i = 0; i < 5; i++) await store.appendEnvelopes([write('carol', i)]);
    expect(await store.appendEnvelopes([write('bob', 1), write('bob', 2)])).toEqual([['1'], ['2']]);
    // Acknowledged ids are never handed out again to the same device.
    await store.ack('bob', 1, ['1', '2']);
    expect(await store.appendEnvelopes([write('bob', 3)])).toEqual([['3']]);
    expect((await store.pending('carol', 1, 3, 10, T0)).map((e) => e.envelopeId)).toEqual(['4', '5']);
    await store.close();
  });
});
