import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { StoreConflict } from '../../src/core/store.ts';
import { MIGRATIONS } from '../../src/edge/storage/schema.ts';
import { SqliteStore } from '../../src/edge/storage/sqlite-store.ts';
import { storageSuite } from '../storage-suite.ts';

const dir = mkdtempSync(join(tmpdir(), 'pulse-store-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

storageSuite('sqlite', () => new SqliteStore(join(dir, `store-${++n}.db`)));

describe('sqlite: files', () => {
  it('upgrades a database written by schema version 1 (queue sizes counted from its envelopes)', async () => {
    const path = join(dir, 'v1.db');
    const old = new Database(path);
    old.exec(MIGRATIONS[0]!);
    old.pragma('user_version = 1');
    old.exec(`INSERT INTO accounts VALUES ('bob', 1, 2);
      INSERT INTO devices VALUES ('bob', 1, 'b', x'01', 1, 1);
      INSERT INTO envelopes (account, device_id, sender, sender_device, server_time, expires_at, payload)
        VALUES ('bob', 1, 'alice', 1, 1, 99, x'00'), ('bob', 1, 'alice', 1, 1, 99, x'01');`);
    old.close();
    const store = new SqliteStore(path);
    await store.createAccount('alice', 'a', new Uint8Array(33), 1);
    // Migration 2 counted the two envelopes already queued.
    expect(await store.queueLength('bob', 1)).toBe(2);
    const send = (queuedAtMost: number) =>
      store.appendEnvelopes([
        {
          from: { account: 'alice', deviceId: 1 },
          to: 'bob',
          envelopes: [{ deviceId: 1, payload: new Uint8Array([2]) }],
          serverTime: 1,
          expiresAt: 99,
          deviceIds: [1],
          queuedAtMost: [queuedAtMost],
        },
      ]);
    await expect(send(1)).rejects.toThrow(StoreConflict);
    expect((await send(2))[0]).toHaveLength(1);
    expect(await store.queueLength('bob', 1)).toBe(3);
    expect((await store.pending('bob', 1, 0, 10, 2)).map((e) => e.payload[0])).toEqual([0, 1, 2]);
    await store.close();
  });

  it('keeps committed envelopes across a reopen, in WAL mode', async () => {
    const path = join(dir, 'reopen.db');
    const store = new SqliteStore(path);
    await store.createAccount('alice', 'a', new Uint8Array(33), 1);
    await store.createAccount('bob', 'b', new Uint8Array(33).fill(1), 1);
    const [ids] = await store.appendEnvelopes([
      {
        from: { account: 'alice', deviceId: 1 },
        to: 'bob',
        envelopes: [{ deviceId: 1, payload: new Uint8Array([42]) }],
        serverTime: 1,
        expiresAt: 10,
        deviceIds: [1],
        queuedAtMost: [0],
      },
    ]);
    await store.close();
    const again = new SqliteStore(path);
    expect((await again.pending('bob', 1, 0, 10, 2)).map((e) => e.envelopeId)).toEqual(ids);
    await again.close();
  });
});
