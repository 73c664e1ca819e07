import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  type DeviceRecord,
  type EnvelopeWrite,
  type ExpiredEnvelope,
  type NewDevice,
  type OneTimePreKeyIds,
  type PreKeyCounts,
  type PreKeyUpload,
  type SignedPreKeyRecord,
  type Store,
  StoreConflict,
  type StoredEnvelope,
  type TakenPreKeys,
} from '../../core/store.ts';
import { MIGRATIONS } from './schema.ts';

interface DeviceRow {
  account: string;
  device_id: number;
  name: string;
  identity_key: Buffer;
  created_at: number;
  last_seen_at: number;
}
interface SignedRow {
  key_id: number;
  public_key: Buffer;
  signature: Buffer;
}
interface EnvelopeRow {
  id: number;
  sender: string;
  sender_device: number;
  server_time: number;
  payload: Buffer;
}

const bytes = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
const toDevice = (r: DeviceRow): DeviceRecord => ({
  account: r.account,
  deviceId: r.device_id,
  name: r.name,
  identityKey: bytes(r.identity_key),
  createdAt: r.created_at,
  lastSeenAt: r.last_seen_at,
});
const toSigned = (r: SignedRow): SignedPreKeyRecord => ({
  keyId: r.key_id,
  publicKey: bytes(r.public_key),
  signature: bytes(r.signature),
});
const sameIds = (stored: readonly number[], expected: readonly number[]): boolean =>
  stored.length === expected.length && stored.every((id, i) => id === expected[i]);

/**
 * The Store on one SQLite file (better-sqlite3, synchronous): reads, and writes
 * that check their precondition inside the same transaction (StoreConflict,
 * rolled back, when it does not hold). No rule of the protocol is decided here.
 *
 * Durability: WAL with synchronous=FULL, so a transaction is on disk (the WAL is
 * fsynced) when `commit` returns; `appendEnvelopes` returns ids only after that,
 * and the core acknowledges (`sent`) only after it returns. A kill -9 therefore
 * loses no acknowledged envelope.
 */
export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #stmts;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    this.#db = db;
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    const version = db.pragma('user_version', { simple: true }) as number;
    for (let i = version; i < MIGRATIONS.length; i++) {
      db.transaction(() => {
        db.exec(MIGRATIONS[i]!);
        db.pragma(`user_version = ${i + 1}`);
      })();
    }
    this.#stmts = {
      insertAccount: db.prepare('INSERT INTO accounts (name, created_at, next_device_id) VALUES (?, ?, 2)'),
      accountExists: db.prepare('SELECT next_device_id FROM accounts WHERE name = ?'),
      bumpDeviceId: db.prepare('UPDATE accounts SET next_device_id = next_device_id + 1 WHERE name = ?'),
      insertDevice: db.prepare(
        'INSERT INTO devices (account, device_id, name, identity_key, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      getDevice: db.prepare('SELECT * FROM devices WHERE account = ? AND device_id = ?'),
      listDevices: db.prepare('SELECT * FROM devices WHERE account = ? ORDER BY device_id'),
      deviceIds: db.prepare('SELECT device_id FROM devices WHERE account = ? ORDER BY device_id').pluck(),
      removeDevice: db.prepare('DELETE FROM devices WHERE account = ? AND device_id = ?'),
      touchDevice: db.prepare('UPDATE devices SET last_seen_at = ? WHERE account = ? AND device_id = ?'),
      upsertSigned: db.prepare(
        `INSERT INTO signed_prekeys (account, device_id, kind, key_id, public_key, signature) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (account, device_id, kind) DO UPDATE SET key_id = excluded.key_id,
           public_key = excluded.public_key, signature = excluded.signature`,
      ),
      getSigned: db.prepare(
        'SELECT key_id, public_key, signature FROM signed_prekeys WHERE account = ? AND device_id = ? AND kind = ?',
      ),
      insertOneTime: db.prepare(
        `INSERT OR REPLACE INTO one_time_prekeys (account, device_id, kind, key_id, public_key, signature)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      oneTimeIds: db
        .prepare('SELECT key_id FROM one_time_prekeys WHERE account = ? AND device_id = ? AND kind = ? ORDER BY key_id')
        .pluck(),
      countOneTime: db.prepare(
        'SELECT count(*) AS n FROM one_time_prekeys WHERE account = ? AND device_id = ? AND kind = ?',
      ),
      takeOneTime: db.prepare(
        `DELETE FROM one_time_prekeys WHERE rowid = (SELECT rowid FROM one_time_prekeys
           WHERE account = ? AND device_id = ? AND kind = ? ORDER BY key_id LIMIT 1)
         RETURNING key_id, public_key, signature`,
      ),
      queueLength: db.prepare('SELECT n FROM queue_sizes WHERE account = ? AND device_id = ?').pluck(),
      insertEnvelope: db.prepare(
        `INSERT INTO envelopes (account, device_id, sender, sender_device, server_time, expires_at, payload)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      pending: db.prepare(
        `SELECT id, sender, sender_device, server_time, payload FROM envelopes
         WHERE account = ? AND device_id = ? AND id > ? AND expires_at > ? ORDER BY id LIMIT ?`,
      ),
      ack: db.prepare('DELETE FROM envelopes WHERE id = ? AND account = ? AND device_id = ?'),
      purge: db.prepare(
        'DELETE FROM envelopes WHERE expires_at <= ? RETURNING id, account, device_id, sender, sender_device',
      ),
    };
  }

  createAccount(account: string, deviceName: string, identityKey: Uint8Array, now: number): DeviceRecord {
    const s = this.#stmts;
    return this.#db.transaction(() => {
      if (s.accountExists.get(account) !== undefined) throw new StoreConflict(`the account ${account} exists`);
      s.insertAccount.run(account, now);
      s.insertDevice.run(account, 1, deviceName, identityKey, now, now);
      return toDevice(s.getDevice.get(account, 1) as DeviceRow);
    })();
  }

  addDevice(account: string, device: NewDevice, expectedDeviceIds: readonly number[]): DeviceRecord {
    const s = this.#stmts;
    return this.#db.transaction(() => {
      const row = s.accountExists.get(account) as { next_device_id: number } | undefined;
      if (row === undefined || !sameIds(this.#deviceIds(account), expectedDeviceIds)) {
        throw new StoreConflict(`the devices of ${account} changed`);
      }
      s.bumpDeviceId.run(account);
      s.insertDevice.run(account, row.next_device_id, device.name, device.identityKey, device.now, device.now);
      return toDevice(s.getDevice.get(account, row.next_device_id) as DeviceRow);
    })();
  }

  getDevice(account: string, deviceId: number): DeviceRecord | undefined {
    const row = this.#stmts.getDevice.get(account, deviceId) as DeviceRow | undefined;
    return row === undefined ? undefined : toDevice(row);
  }

  listDevices(account: string): DeviceRecord[] {
    return (this.#stmts.listDevices.all(account) as DeviceRow[]).map(toDevice);
  }

  removeDevice(account: string, deviceId: number, expectedDeviceIds: readonly number[]): boolean {
    return this.#db.transaction(() => {
      if (!sameIds(this.#deviceIds(account), expectedDeviceIds)) {
        throw new StoreConflict(`the devices of ${account} changed`);
      }
      return this.#stmts.removeDevice.run(account, deviceId).changes > 0;
    })();
  }

  touchDevice(account: string, deviceId: number, now: number): void {
    this.#stmts.touchDevice.run(now, account, deviceId);
  }

  oneTimePreKeyIds(account: string, deviceId: number): OneTimePreKeyIds {
    const ids = this.#stmts.oneTimeIds;
    return { ec: ids.all(account, deviceId, 'ec') as number[], pq: ids.all(account, deviceId, 'pq') as number[] };
  }

  storePreKeys(account: string, deviceId: number, upload: PreKeyUpload, expected: OneTimePreKeyIds): PreKeyCounts {
    const s = this.#stmts;
    return this.#db.transaction(() => {
      const stored = this.oneTimePreKeyIds(account, deviceId);
      if (!sameIds(stored.ec, expected.ec) || !sameIds(stored.pq, expected.pq)) {
        throw new StoreConflict(`the one-time prekeys of ${account}/${deviceId} changed`);
      }
      const signed = (kind: string, key: SignedPreKeyRecord) =>
        s.upsertSigned.run(account, deviceId, kind, key.keyId, key.publicKey, key.signature);
      if (upload.signedPreKey) signed('signed', upload.signedPreKey);
      if (upload.pqLastResortPreKey) signed('pq_last_resort', upload.pqLastResortPreKey);
      for (const key of upload.oneTimePreKeys ?? []) {
        s.insertOneTime.run(account, deviceId, 'ec', key.keyId, key.publicKey, null);
      }
      for (const key of upload.pqOneTimePreKeys ?? []) {
        s.insertOneTime.run(account, deviceId, 'pq', key.keyId, key.publicKey, key.signature);
      }
      return this.preKeyCounts(account, deviceId);
    })();
  }

  preKeyCounts(account: string, deviceId: number): PreKeyCounts {
    const s = this.#stmts;
    return {
      oneTimePreKeys: (s.countOneTime.get(account, deviceId, 'ec') as { n: number }).n,
      pqOneTimePreKeys: (s.countOneTime.get(account, deviceId, 'pq') as { n: number }).n,
    };
  }

  takePreKeys(account: string): TakenPreKeys[] {
    const s = this.#stmts;
    return this.#db.transaction(() => {
      const taken: TakenPreKeys[] = [];
      for (const device of s.listDevices.all(account) as DeviceRow[]) {
        const signed = s.getSigned.get(account, device.device_id, 'signed') as SignedRow | undefined;
        const lastResort = s.getSigned.get(account, device.device_id, 'pq_last_resort') as SignedRow | undefined;
        if (signed === undefined || lastResort === undefined) continue;
        const ec = s.takeOneTime.get(account, device.device_id, 'ec') as SignedRow | undefined;
        const pq = s.takeOneTime.get(account, device.device_id, 'pq') as SignedRow | undefined;
        taken.push({
          deviceId: device.device_id,
          identityKey: bytes(device.identity_key),
          signedPreKey: toSigned(signed),
          pqLastResortPreKey: toSigned(lastResort),
          oneTimePreKey: ec === undefined ? undefined : { keyId: ec.key_id, publicKey: bytes(ec.public_key) },
          pqOneTimePreKey: pq === undefined ? undefined : toSigned(pq),
          remaining: this.preKeyCounts(account, device.device_id),
        });
      }
      return taken;
    })();
  }

  queueLength(account: string, deviceId: number): number {
    return (this.#stmts.queueLength.get(account, deviceId) as number | undefined) ?? 0;
  }

  appendEnvelopes(writes: readonly EnvelopeWrite[]): string[][] {
    const s = this.#stmts;
    // ONE transaction for the whole group commit: one fsync; a failed precondition rolls all of it back.
    return this.#db.transaction(() =>
      writes.map((write) => {
        const { from, to, envelopes } = write;
        if (!sameIds(this.#deviceIds(to), write.deviceIds)) throw new StoreConflict(`the devices of ${to} changed`);
        return envelopes.map((envelope, i) => {
          if (this.queueLength(to, envelope.deviceId) > write.queuedAtMost[i]!) {
            throw new StoreConflict(`the queue of ${to}/${envelope.deviceId} grew`);
          }
          const info = s.insertEnvelope.run(
            to,
            envelope.deviceId,
            from.account,
            from.deviceId,
            write.serverTime,
            write.expiresAt,
            envelope.payload,
          );
          return String(info.lastInsertRowid);
        });
      }),
    )();
  }

  #deviceIds(account: string): number[] {
    return this.#stmts.deviceIds.all(account) as number[];
  }

  pending(account: string, deviceId: number, afterId: number, limit: number, now: number): StoredEnvelope[] {
    return (this.#stmts.pending.all(account, deviceId, afterId, now, limit) as EnvelopeRow[]).map((r) => ({
      envelopeId: String(r.id),
      from: { account: r.sender, deviceId: r.sender_device },
      serverTime: r.server_time,
      payload: bytes(r.payload),
    }));
  }

  ack(account: string, deviceId: number, envelopeIds: readonly string[]): number {
    const s = this.#stmts;
    return this.#db.transaction(() => {
      let deleted = 0;
      for (const id of envelopeIds) {
        if (/^\d{1,15}$/.test(id)) deleted += s.ack.run(Number(id), account, deviceId).changes;
      }
      return deleted;
    })();
  }

  purgeExpired(now: number): ExpiredEnvelope[] {
    const rows = this.#stmts.purge.all(now) as {
      id: number;
      account: string;
      device_id: number;
      sender: string;
      sender_device: number;
    }[];
    return rows.map((r) => ({
      envelopeId: String(r.id),
      from: { account: r.sender, deviceId: r.sender_device },
      to: { account: r.account, deviceId: r.device_id },
    }));
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
