import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteChannelLog } from '../../src/edge/storage/sqlite-channel-log.ts';
import { SqliteStore } from '../../src/edge/storage/sqlite-store.ts';
import { channelLogSuite, ROOMY } from '../core/channels/channel-log-suite.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function databaseFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-channel-log-'));
  dirs.push(dir);
  return join(dir, 'pulse.db');
}

channelLogSuite('SQLite file', (budget) => new SqliteChannelLog(databaseFile(), budget));

const record = (n: number) => ({ account: 'alice', deviceId: 1, serverTime: 1000 + n, payload: new Uint8Array([n]) });

describe('SQLite channel log across restarts', () => {
  it('keeps epochs, offsets and payloads when reopened, beside the store on the same file', async () => {
    const path = databaseFile();
    const store = new SqliteStore(path);
    const log = new SqliteChannelLog(path, ROOMY);
    const { epoch } = await log.append('public:r', record(1));
    await log.append('public:r', record(2));
    await log.close();
    await store.close();

    const reopened = new SqliteChannelLog(path, ROOMY);
    const read = await reopened.read('public:r', 0, 10, 1002);
    expect(read).toMatchObject({ position: { epoch, offset: 2 }, complete: true });
    expect(read.entries.map((entry) => entry.payload[0])).toEqual([1, 2]);
    expect(await reopened.append('public:r', record(3))).toEqual({ epoch, offset: 3 });
    await reopened.close();
  });

  it('keeps the epoch after a crash on the same boot (the WAL is in the page cache), renews it after one across boots', async () => {
    const path = databaseFile();
    const crashed = new SqliteChannelLog(path, ROOMY);
    const { epoch } = await crashed.append('public:c', record(1));
    // Not closed: as a killed process leaves it. The same boot: nothing unsynced was lost.
    const sameBoot = new SqliteChannelLog(path, ROOMY);
    expect(await sameBoot.position('public:c')).toEqual({ epoch, offset: 1 });
    // Not closed either, and the machine "rebooted" meanwhile: unsynced publications may be gone.
    const raw = new Database(path);
    raw.prepare("UPDATE channel_log_meta SET boot_id = 'another boot' WHERE id = 0").run();
    raw.close();
    const afterPowerCut = new SqliteChannelLog(path, ROOMY);
    const renewed = await afterPowerCut.position('public:c');
    expect(renewed.offset).toBe(1);
    expect(renewed.epoch).not.toBe(epoch);
    for (const log of [crashed, sameBoot, afterPowerCut]) await log.close();
  });

  it('stores payloads as they were sent and overwrites trimmed ones (secure_delete)', async () => {
    const path = databaseFile();
    const log = new SqliteChannelLog(path, { ...ROOMY, maxEntries: 1 });
    const marker = new TextEncoder().encode('ciphertext-marker-0123456789');
    await log.append('public:s', { account: 'alice', deviceId: 1, serverTime: 1000, payload: marker });
    const read = await log.read('public:s', 0, 10, 1000);
    expect(Buffer.from(read.entries[0]!.payload).equals(Buffer.from(marker))).toBe(true);
    await log.append('public:s', record(2));
    await log.close();
    const raw = new Database(path);
    raw.pragma('wal_checkpoint(TRUNCATE)');
    raw.close();
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(path).includes(Buffer.from(marker))).toBe(false);
  });
});
