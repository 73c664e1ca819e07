/**
 * The durable-ingest baseline (its own process): raw better-sqlite3 inserts of
 * the rows Pulse stores for an envelope, into Pulse's own schema (the server's
 * migrations, its triggers and indexes) with the server's pragmas (WAL,
 * synchronous=FULL, foreign keys), BATCH rows per transaction.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../server/src/edge/storage/schema.ts';
import { serveRequests } from '../lib/ipc.ts';

const TTL_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * The statements the server runs per stored envelope, on the schema at hand: the
 * row, and (since schema migration 5) the per-device sequence number the device
 * sees, taken from `envelope_seqs` in the same transaction.
 */
function rowInserter(db: Database.Database): (at: number, payload: Uint8Array) => void {
  const columns = (db.prepare('PRAGMA table_info(envelopes)').all() as { name: string }[]).map((c) => c.name);
  if (!columns.includes('seq')) {
    const insert = db.prepare(
      'INSERT INTO envelopes (account, device_id, sender, sender_device, server_time, expires_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    return (at, payload) => insert.run('bob', 1, 'alice', 1, at, at + TTL_MS, payload);
  }
  const nextSeq = db
    .prepare(
      `INSERT INTO envelope_seqs (account, device_id, next) VALUES (?, ?, 2)
       ON CONFLICT (account, device_id) DO UPDATE SET next = next + 1 RETURNING next - 1`,
    )
    .pluck();
  const insert = db.prepare(
    'INSERT INTO envelopes (account, device_id, sender, sender_device, server_time, expires_at, payload, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  return (at, payload) => insert.run('bob', 1, 'alice', 1, at, at + TTL_MS, payload, nextSeq.get('bob', 1));
}

serveRequests({
  run({ rows, batch, bytes }: { rows: number; batch: number; bytes: number }) {
    const dir = mkdtempSync(join(tmpdir(), 'pulse-bench-sqlite-'));
    const db = new Database(join(dir, 'baseline.db'));
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      for (const migration of MIGRATIONS) db.exec(migration);
      const now = Date.now();
      db.prepare('INSERT INTO accounts (name, created_at, next_device_id) VALUES (?, ?, 2)').run('bob', now);
      db.prepare(
        'INSERT INTO devices (account, device_id, name, identity_key, created_at, last_seen_at) VALUES (?, 1, ?, ?, ?, ?)',
      ).run('bob', 'first', new Uint8Array(33), now, now);
      const payload = new Uint8Array(bytes).fill(0x42);
      const insertRow = rowInserter(db);
      const transaction = db.transaction((count: number) => {
        const at = Date.now();
        for (let i = 0; i < count; i++) insertRow(at, payload);
      });
      const started = performance.now();
      for (let done = 0; done < rows; done += batch) transaction(Math.min(batch, rows - done));
      return rows / ((performance.now() - started) / 1000);
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
});
