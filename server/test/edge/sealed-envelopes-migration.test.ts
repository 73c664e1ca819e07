import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/edge/storage/schema.ts';
import { SqliteStore } from '../../src/edge/storage/sqlite-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'pulse-sealed-migration-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Schema migration 7 (sealed sender, PROTOCOL.md "Sealed sender") rebuilds the
 * envelopes table so `sender` may be NULL: what a database of version 6 held
 * must come through unchanged, counters and id high-water mark included.
 */
describe('sqlite: migration 7 (sealed envelopes)', () => {
  it('keeps the envelopes, their counters and the id high-water mark; then stores sealed ones without a sender', async () => {
    const path = join(dir, 'v6.db');
    const old = new Database(path);
    for (const migration of MIGRATIONS.slice(0, 6)) old.exec(migration);
    old.pragma('user_version = 6');
    old.exec(`INSERT INTO accounts VALUES ('alice', 1, 2), ('bob', 1, 2);
      INSERT INTO devices VALUES ('alice', 1, 'a', x'01', 1, 1), ('bob', 1, 'b', x'02', 1, 1);
      INSERT INTO envelopes (account, device_id, sender, sender_device, server_time, expires_at, payload, seq)
        VALUES ('bob', 1, 'alice', 1, 1, 99, x'0000', 1), ('bob', 1, 'alice', 1, 1, 99, x'01', 2),
               ('bob', 1, 'alice', 1, 1, 99, x'02', 3);
      INSERT INTO envelope_seqs VALUES ('bob', 1, 4);
      DELETE FROM envelopes WHERE seq = 3;`);
    const highWater = old.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'envelopes'").pluck().get();
    old.close();

    const store = new SqliteStore(path);
    expect(await store.queueLength('bob', 1)).toBe(2);
    expect(await store.queuedBytes('alice')).toEqual({ sent: 3, received: 0 });
    expect((await store.pending('bob', 1, 0, 10, 2)).map((e) => [e.envelopeId, e.from?.account])).toEqual([
      ['1', 'alice'],
      ['2', 'alice'],
    ]);
    const [[sealedId]] = (await store.appendEnvelopes([
      {
        from: undefined,
        to: 'bob',
        envelopes: [{ deviceId: 1, payload: new Uint8Array([7, 7, 7, 7]) }],
        serverTime: 2,
        expiresAt: 99,
        deviceIds: [1],
        queuedAtMost: [2],
      },
    ])) as [[string]];
    expect(sealedId).toBe('4');
    expect(await store.queuedBytes('alice')).toEqual({ sent: 3, received: 0 });
    expect(await store.queuedBytes('bob')).toEqual({ sent: 0, received: 7 });
    await store.close();

    const db = new Database(path, { readonly: true });
    const rows = db.prepare('SELECT id, sender, sender_device FROM envelopes ORDER BY id').all() as {
      id: number;
      sender: string | null;
      sender_device: number | null;
    }[];
    // The row id the deleted envelope had is not handed out again.
    expect(rows.at(-1)!.id).toBeGreaterThan(highWater as number);
    expect(rows.at(-1)).toMatchObject({ sender: null, sender_device: null });
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(db.pragma('foreign_key_check')).toEqual([]);
    db.close();
  });
});
