import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './schema.ts';

/** Bytes the WAL is truncated back to after a checkpoint (`journal_size_limit`). */
const WAL_SIZE_LIMIT = 64 * 1024 * 1024;
/** Milliseconds a connection waits for another one's lock before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5_000;

/**
 * Creates the data directory (0700) and the database file (0600) if missing:
 * SQLite creates the -wal and -shm files with the database file's mode (issue 11).
 */
export function prepareDatabaseFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  closeSync(openSync(path, 'a', 0o600));
  chmodSync(path, 0o600);
}

/**
 * The one connection that writes (it lives in the writer thread, writer/worker.ts):
 * WAL, foreign keys, `secure_delete` (deleted envelopes are overwritten with
 * zeros, not left in free pages), the WAL truncated back to WAL_SIZE_LIMIT after
 * a checkpoint, and the schema brought up to date (schema.ts; each migration in
 * its own transaction, recorded in `user_version`). `synchronous` is set per
 * transaction by the writer (writer/worker.ts).
 */
export function openWriteConnection(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.pragma('secure_delete = ON');
  db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let i = version; i < MIGRATIONS.length; i++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[i]!);
      db.pragma(`user_version = ${i + 1}`);
    })();
  }
  return db;
}

/**
 * A connection on the main thread that only reads (`query_only`: a write there
 * would take the file's one write lock away from the writer thread and wait for
 * its fsync on the event loop). In WAL mode it never waits for the writer, and
 * a read started after a write's commit returned sees that write. Open it after
 * the writer is ready: the schema exists then.
 */
export function openReadConnection(path: string): Database.Database {
  const db = new Database(path, { fileMustExist: true });
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.pragma('query_only = ON');
  return db;
}
