import { join } from 'node:path';
import Database from 'better-sqlite3';

/**
 * The server's own SQLite file, opened beside the running server as an
 * attacker who took over the server (or its database) would: tests of what a
 * compromised server can and cannot do to clients (README "Trust").
 */
export class ServerDatabase {
  readonly #db: Database.Database;

  constructor(dataDir: string) {
    this.#db = new Database(join(dataDir, 'pulse.db'));
    this.#db.pragma('busy_timeout = 5000');
    this.#db.pragma('foreign_keys = ON'); // deleting an account deletes what it holds, as the server's own connection does
  }

  /**
   * Moves device 1 of `from` (a device the attacker registered, so it has
   * prekeys) into `to`'s account as device `deviceId`, with its prekeys:
   * the server now lists it among `to`'s devices.
   */
  moveDevice(from: string, to: string, deviceId: number): void {
    // Rows of three tables move together: the foreign keys would refuse the first move alone.
    this.#db.pragma('foreign_keys = OFF');
    try {
      this.#db.transaction(() => {
        for (const table of ['devices', 'signed_prekeys', 'one_time_prekeys']) {
          this.#db
            .prepare(`UPDATE ${table} SET account = ?, device_id = ? WHERE account = ? AND device_id = 1`)
            .run(to, deviceId, from);
        }
      })();
    } finally {
      this.#db.pragma('foreign_keys = ON');
    }
  }

  /** How many envelopes wait for one device. */
  queued(account: string, deviceId: number): number {
    return this.#db
      .prepare('SELECT count(*) FROM envelopes WHERE account = ? AND device_id = ?')
      .pluck()
      .get(account, deviceId) as number;
  }

  /** Everything stored about `account`'s device list and devices, to put back later (a rollback). */
  snapshot(account: string): { list: unknown; devices: unknown[] } {
    return {
      list: this.#db.prepare('SELECT * FROM device_lists WHERE account = ?').get(account),
      devices: this.#db.prepare('SELECT * FROM devices WHERE account = ?').all(account),
    };
  }

  /** Puts back a snapshot: the older device list and the devices it named. */
  restore(account: string, snapshot: { list: unknown; devices: unknown[] }): void {
    this.#db.transaction(() => {
      this.#db.prepare('DELETE FROM device_lists WHERE account = ?').run(account);
      this.#db
        .prepare('INSERT INTO device_lists VALUES (@account, @account_key, @version, @devices, @signature)')
        .run(snapshot.list);
      for (const device of snapshot.devices) {
        this.#db
          .prepare(
            'INSERT OR IGNORE INTO devices VALUES (@account, @device_id, @name, @identity_key, @created_at, @last_seen_at)',
          )
          .run(device);
      }
    })();
  }

  /** Deletes the account and all it holds, so that its name can be registered again. */
  deleteAccount(account: string): void {
    this.#db.prepare('DELETE FROM accounts WHERE name = ?').run(account);
  }

  close(): void {
    this.#db.close();
  }
}
