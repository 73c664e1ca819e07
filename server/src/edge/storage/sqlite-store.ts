import { chmodSync, closeSync, mkdirSync, openSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  type DeviceListEntry,
  type DeviceListWrite,
  type DeviceRecord,
  type EnvelopeWrite,
  type ExpiredEnvelope,
  type NewDevice,
  type OneTimePreKeyIds,
  type PreKeyCounts,
  type PreKeyUpload,
  type QueuedBytes,
  type SignedPreKeyRecord,
  type StorageUsage,
  type Store,
  StoreConflict,
  type StoredDeviceList,
  type StoredEnvelope,
  type TakenPreKeys,
} from '../../core/store.ts';
import { MIGRATIONS } from './schema.ts';
import { TurnBatch } from './turn-batch.ts';

/** One device's `deliver_ack`, waiting for its turn's transaction. */
interface DeviceAck {
  readonly account: string;
  readonly deviceId: number;
  readonly envelopeIds: readonly string[];
}

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
  seq: number;
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

/** Rows one purge transaction deletes at most. */
const PURGE_BATCH = 1_000;
/** Bytes the WAL is truncated back to after a checkpoint (`journal_size_limit`). */
const WAL_SIZE_LIMIT = 64 * 1024 * 1024;

/**
 * The Store on one SQLite file (better-sqlite3: synchronous underneath, each
 * method resolving at once, except `ack`, which waits for the end of the
 * event-loop turn to share one transaction with the turn's other acks): reads, and writes
 * that check their precondition inside the same transaction (StoreConflict,
 * rolled back, when it does not hold). No rule of the protocol is decided here.
 *
 * Durability: WAL with synchronous=FULL, so a transaction is on disk (the WAL is
 * fsynced) when `commit` returns; `appendEnvelopes` returns ids only after that,
 * and the core acknowledges (`sent`) only after it returns. A kill -9 therefore
 * loses no acknowledged envelope.
 *
 * What was deleted stays deleted (issue 11): the database and its WAL are
 * created mode 0600 in a 0700 directory; `secure_delete` zeroes deleted
 * content; the WAL is checkpointed and truncated to `journal_size_limit` after
 * each purge; the purge deletes in batches of PURGE_BATCH rows, one short
 * transaction each, yielding in between.
 */
export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #stmts;

  readonly #directory: string | undefined;
  readonly #acks = new TurnBatch<DeviceAck, number>((acks) => this.#deleteAcked(acks));

  constructor(path: string) {
    if (path !== ':memory:') {
      this.#directory = dirname(path);
      mkdirSync(this.#directory, { recursive: true, mode: 0o700 });
      // SQLite creates the -wal and -shm files with the database file's mode.
      closeSync(openSync(path, 'a', 0o600));
      chmodSync(path, 0o600);
    }
    const db = new Database(path);
    this.#db = db;
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    // Deleted envelopes are overwritten with zeros, not left in free pages.
    db.pragma('secure_delete = ON');
    // A checkpointed WAL is truncated back to this size (bytes), not left at its peak.
    db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
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
        `INSERT INTO envelopes (account, device_id, sender, sender_device, server_time, expires_at, payload, seq)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      pending: db.prepare(
        `SELECT seq, sender, sender_device, server_time, payload FROM envelopes
         WHERE account = ? AND device_id = ? AND seq > ? AND expires_at > ? ORDER BY seq LIMIT ?`,
      ),
      ack: db.prepare('DELETE FROM envelopes WHERE seq = ? AND account = ? AND device_id = ?'),
      nextSeq: db
        .prepare(
          `INSERT INTO envelope_seqs (account, device_id, next) VALUES (?, ?, 2)
           ON CONFLICT (account, device_id) DO UPDATE SET next = next + 1 RETURNING next - 1`,
        )
        .pluck(),
      purge: db.prepare(
        `DELETE FROM envelopes WHERE id IN (SELECT id FROM envelopes WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)
         RETURNING seq, account, device_id, sender, sender_device`,
      ),
      queuedBytes: db.prepare('SELECT role, n FROM queued_bytes WHERE account = ?'),
      pageCount: db.prepare('PRAGMA page_count').pluck(),
      pageSize: db.prepare('PRAGMA page_size').pluck(),
      freePages: db.prepare('PRAGMA freelist_count').pluck(),
      getDeviceList: db.prepare('SELECT account_key, version, devices, signature FROM device_lists WHERE account = ?'),
      putDeviceList: db.prepare(
        `INSERT INTO device_lists (account, account_key, version, devices, signature) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (account) DO UPDATE SET account_key = excluded.account_key, version = excluded.version,
           devices = excluded.devices, signature = excluded.signature`,
      ),
      setNextDeviceId: db.prepare('UPDATE accounts SET next_device_id = ? WHERE name = ?'),
    };
  }

  async createAccount(
    account: string,
    deviceName: string,
    identityKey: Uint8Array,
    now: number,
  ): Promise<DeviceRecord> {
    const s = this.#stmts;
    return this.#db.transaction(() => {
      if (s.accountExists.get(account) !== undefined) throw new StoreConflict(`the account ${account} exists`);
      s.insertAccount.run(account, now);
      s.insertDevice.run(account, 1, deviceName, identityKey, now, now);
      return toDevice(s.getDevice.get(account, 1) as DeviceRow);
    })();
  }

  async addDevice(account: string, device: NewDevice, expectedDeviceIds: readonly number[]): Promise<DeviceRecord> {
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

  async getDevice(account: string, deviceId: number): Promise<DeviceRecord | undefined> {
    const row = this.#stmts.getDevice.get(account, deviceId) as DeviceRow | undefined;
    return row === undefined ? undefined : toDevice(row);
  }

  async listDevices(account: string): Promise<DeviceRecord[]> {
    return (this.#stmts.listDevices.all(account) as DeviceRow[]).map(toDevice);
  }

  async removeDevice(account: string, deviceId: number, expectedDeviceIds: readonly number[]): Promise<boolean> {
    return this.#db.transaction(() => {
      if (!sameIds(this.#deviceIds(account), expectedDeviceIds)) {
        throw new StoreConflict(`the devices of ${account} changed`);
      }
      return this.#stmts.removeDevice.run(account, deviceId).changes > 0;
    })();
  }

  async touchDevice(account: string, deviceId: number, now: number): Promise<void> {
    this.#stmts.touchDevice.run(now, account, deviceId);
  }

  async oneTimePreKeyIds(account: string, deviceId: number): Promise<OneTimePreKeyIds> {
    return this.#oneTimeIds(account, deviceId);
  }

  #oneTimeIds(account: string, deviceId: number): OneTimePreKeyIds {
    const ids = this.#stmts.oneTimeIds;
    return { ec: ids.all(account, deviceId, 'ec') as number[], pq: ids.all(account, deviceId, 'pq') as number[] };
  }

  async storePreKeys(
    account: string,
    deviceId: number,
    upload: PreKeyUpload,
    expected: OneTimePreKeyIds,
  ): Promise<PreKeyCounts> {
    const s = this.#stmts;
    return this.#db.transaction(() => {
      const stored = this.#oneTimeIds(account, deviceId);
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
      return this.#counts(account, deviceId);
    })();
  }

  async preKeyCounts(account: string, deviceId: number): Promise<PreKeyCounts> {
    return this.#counts(account, deviceId);
  }

  #counts(account: string, deviceId: number): PreKeyCounts {
    const s = this.#stmts;
    return {
      oneTimePreKeys: (s.countOneTime.get(account, deviceId, 'ec') as { n: number }).n,
      pqOneTimePreKeys: (s.countOneTime.get(account, deviceId, 'pq') as { n: number }).n,
    };
  }

  async takePreKeys(account: string): Promise<TakenPreKeys[]> {
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
          remaining: this.#counts(account, device.device_id),
        });
      }
      return taken;
    })();
  }

  async queueLength(account: string, deviceId: number): Promise<number> {
    return this.#queueLength(account, deviceId);
  }

  #queueLength(account: string, deviceId: number): number {
    return (this.#stmts.queueLength.get(account, deviceId) as number | undefined) ?? 0;
  }

  async appendEnvelopes(writes: readonly EnvelopeWrite[]): Promise<string[][]> {
    const s = this.#stmts;
    // ONE transaction for the whole group commit: one fsync; a failed precondition rolls all of it back.
    return this.#db.transaction(() =>
      writes.map((write) => {
        const { from, to, envelopes } = write;
        if (!sameIds(this.#deviceIds(to), write.deviceIds)) throw new StoreConflict(`the devices of ${to} changed`);
        return envelopes.map((envelope, i) => {
          if (this.#queueLength(to, envelope.deviceId) > write.queuedAtMost[i]!) {
            throw new StoreConflict(`the queue of ${to}/${envelope.deviceId} grew`);
          }
          // The id the device sees counts its own envelopes only (schema migration 5).
          const seq = s.nextSeq.get(to, envelope.deviceId) as number;
          s.insertEnvelope.run(
            to,
            envelope.deviceId,
            from.account,
            from.deviceId,
            write.serverTime,
            write.expiresAt,
            envelope.payload,
            seq,
          );
          return String(seq);
        });
      }),
    )();
  }

  #deviceIds(account: string): number[] {
    return this.#stmts.deviceIds.all(account) as number[];
  }

  async pending(
    account: string,
    deviceId: number,
    afterId: number,
    limit: number,
    now: number,
  ): Promise<StoredEnvelope[]> {
    return (this.#stmts.pending.all(account, deviceId, afterId, now, limit) as EnvelopeRow[]).map((r) => ({
      envelopeId: String(r.seq),
      from: { account: r.sender, deviceId: r.sender_device },
      serverTime: r.server_time,
      payload: bytes(r.payload),
    }));
  }

  /** The acks of one event-loop turn, over all devices, share one transaction and one fsync (issue 15). */
  ack(account: string, deviceId: number, envelopeIds: readonly string[]): Promise<number> {
    return this.#acks.add({ account, deviceId, envelopeIds });
  }

  #deleteAcked(acks: readonly DeviceAck[]): number[] {
    const s = this.#stmts;
    return this.#db.transaction(() =>
      acks.map(({ account, deviceId, envelopeIds }) => {
        let deleted = 0;
        for (const id of envelopeIds) {
          if (/^\d{1,15}$/.test(id)) deleted += s.ack.run(Number(id), account, deviceId).changes;
        }
        return deleted;
      }),
    )();
  }

  /** Deletes in batches of PURGE_BATCH (each its own short transaction), letting other work run in between. */
  async purgeExpired(now: number): Promise<ExpiredEnvelope[]> {
    const expired: ExpiredEnvelope[] = [];
    for (;;) {
      const rows = this.#stmts.purge.all(now, PURGE_BATCH) as {
        seq: number;
        account: string;
        device_id: number;
        sender: string;
        sender_device: number;
      }[];
      for (const r of rows) {
        expired.push({
          envelopeId: String(r.seq),
          from: { account: r.sender, deviceId: r.sender_device },
          to: { account: r.account, deviceId: r.device_id },
        });
      }
      if (rows.length < PURGE_BATCH) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    // What the purge deleted leaves the WAL too: checkpoint, then truncate it to journal_size_limit.
    if (expired.length > 0) this.#db.pragma('wal_checkpoint(TRUNCATE)');
    return expired;
  }

  async queuedBytes(account: string): Promise<QueuedBytes> {
    const rows = this.#stmts.queuedBytes.all(account) as { role: 'sent' | 'received'; n: number }[];
    return {
      sent: rows.find((r) => r.role === 'sent')?.n ?? 0,
      received: rows.find((r) => r.role === 'received')?.n ?? 0,
    };
  }

  async usage(): Promise<StorageUsage> {
    const s = this.#stmts;
    // Pages in use: free pages (acked, purged) are written again before the file grows.
    const usedBytes = ((s.pageCount.get() as number) - (s.freePages.get() as number)) * (s.pageSize.get() as number);
    if (this.#directory === undefined) return { usedBytes, freeBytes: Number.MAX_SAFE_INTEGER };
    const fs = statfsSync(this.#directory);
    return { usedBytes, freeBytes: fs.bavail * fs.bsize };
  }

  async deviceList(account: string): Promise<StoredDeviceList | undefined> {
    const row = this.#stmts.getDeviceList.get(account) as DeviceListRow | undefined;
    return row === undefined ? undefined : toDeviceList(row);
  }

  async nextDeviceId(account: string): Promise<number | undefined> {
    return (this.#stmts.accountExists.get(account) as { next_device_id: number } | undefined)?.next_device_id;
  }

  async writeDeviceList(account: string, write: DeviceListWrite): Promise<void> {
    const s = this.#stmts;
    this.#db.transaction(() => {
      const account_ = s.accountExists.get(account) as { next_device_id: number } | undefined;
      const stored = s.getDeviceList.get(account) as DeviceListRow | undefined;
      if (account_ === undefined || stored?.version !== write.expectedVersion) {
        throw new StoreConflict(`the device list of ${account} changed`);
      }
      const { add, list } = write;
      if (add !== undefined) {
        if (add.deviceId < account_.next_device_id) throw new StoreConflict(`device id ${add.deviceId} was used`);
        s.insertDevice.run(account, add.deviceId, add.name, add.identityKey, add.now, add.now);
        s.setNextDeviceId.run(add.deviceId + 1, account);
      }
      for (const deviceId of write.remove) s.removeDevice.run(account, deviceId);
      s.putDeviceList.run(account, list.accountKey, list.version, encodeDevices(list.devices), list.signature);
    })();
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#acks.flush();
    if (this.#db.open) this.#db.close();
  }
}

interface DeviceListRow {
  account_key: Uint8Array;
  version: number;
  devices: string;
  signature: Uint8Array;
}

function encodeDevices(devices: readonly DeviceListEntry[]): string {
  return JSON.stringify(devices.map((d) => ({ ...d, identityKey: Buffer.from(d.identityKey).toString('hex') })));
}

function toDeviceList(row: DeviceListRow): StoredDeviceList {
  const devices = (
    JSON.parse(row.devices) as { deviceId: number; identityKey: string; name: string; addedAt: number }[]
  ).map((d) => ({ ...d, identityKey: new Uint8Array(Buffer.from(d.identityKey, 'hex')) }));
  return {
    accountKey: new Uint8Array(row.account_key),
    version: row.version,
    devices,
    signature: new Uint8Array(row.signature),
  };
}
