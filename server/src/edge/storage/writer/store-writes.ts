import type Database from 'better-sqlite3';
import {
  type DeviceListEntry,
  type DeviceListWrite,
  type EnvelopeWrite,
  type ExpiredEnvelope,
  type NewDevice,
  type OneTimePreKeyIds,
  type PreKeyCounts,
  type PreKeyUpload,
  type SignedPreKeyRecord,
  StoreConflict,
  type TakenPreKeys,
} from '../../../core/store.ts';
import { type DeviceRow, SHARED_READS, toDevice } from '../rows.ts';
import type { DeviceAck, WriteOps } from './protocol.ts';

interface SignedRow {
  key_id: number;
  public_key: Uint8Array;
  signature: Uint8Array;
}

const toSigned = (r: SignedRow): SignedPreKeyRecord => ({
  keyId: r.key_id,
  publicKey: r.public_key,
  signature: r.signature,
});
const sameIds = (stored: readonly number[], expected: readonly number[]): boolean =>
  stored.length === expected.length && stored.every((id, i) => id === expected[i]);

export type StoreWrites = Omit<
  WriteOps,
  'openChannelLog' | 'closeChannelLog' | 'appendChannel' | 'channelHead' | 'followChannel'
>;

/**
 * The Store's writes, run in the writer thread on its connection
 * (sqlite-writer.ts): each one transaction that checks the precondition the
 * core decided on and writes, or throws StoreConflict and writes nothing
 * (core/store.ts). The writer may run several of them inside one outer
 * transaction (group commit): better-sqlite3 then runs each as a SAVEPOINT, so
 * a conflict still undoes exactly that one. Byte columns come back as Buffers;
 * the structured clone to the main thread makes them plain Uint8Arrays.
 */
export function storeWrites(db: Database.Database): StoreWrites {
  const s = {
    insertAccount: db.prepare('INSERT INTO accounts (name, created_at, next_device_id) VALUES (?, ?, 2)'),
    accountExists: db.prepare<[string], { next_device_id: number }>(SHARED_READS.nextDeviceId),
    bumpDeviceId: db.prepare('UPDATE accounts SET next_device_id = next_device_id + 1 WHERE name = ?'),
    insertDevice: db.prepare(
      'INSERT INTO devices (account, device_id, name, identity_key, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    getDevice: db.prepare<[string, number], DeviceRow>(SHARED_READS.getDevice),
    listDevices: db.prepare<[string], DeviceRow>(SHARED_READS.listDevices),
    deviceIds: db
      .prepare<[string], number>('SELECT device_id FROM devices WHERE account = ? ORDER BY device_id')
      .pluck(),
    removeDevice: db.prepare('DELETE FROM devices WHERE account = ? AND device_id = ?'),
    touchDevice: db.prepare('UPDATE devices SET last_seen_at = ? WHERE account = ? AND device_id = ?'),
    upsertSigned: db.prepare(
      `INSERT INTO signed_prekeys (account, device_id, kind, key_id, public_key, signature) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (account, device_id, kind) DO UPDATE SET key_id = excluded.key_id,
         public_key = excluded.public_key, signature = excluded.signature`,
    ),
    getSigned: db.prepare<[string, number, string], SignedRow>(
      'SELECT key_id, public_key, signature FROM signed_prekeys WHERE account = ? AND device_id = ? AND kind = ?',
    ),
    insertOneTime: db.prepare(
      `INSERT OR REPLACE INTO one_time_prekeys (account, device_id, kind, key_id, public_key, signature)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    oneTimeIds: db.prepare<[string, number, string], number>(SHARED_READS.oneTimeIds).pluck(),
    countOneTime: db.prepare<[string, number, string], number>(SHARED_READS.countOneTime).pluck(),
    takeOneTime: db.prepare<[string, number, string], SignedRow>(
      `DELETE FROM one_time_prekeys WHERE rowid = (SELECT rowid FROM one_time_prekeys
         WHERE account = ? AND device_id = ? AND kind = ? ORDER BY key_id LIMIT 1)
       RETURNING key_id, public_key, signature`,
    ),
    queueLength: db.prepare<[string, number], number>(SHARED_READS.queueLength).pluck(),
    insertEnvelope: db.prepare(
      `INSERT INTO envelopes (account, device_id, sender, sender_device, server_time, expires_at, payload, seq)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    ack: db.prepare('DELETE FROM envelopes WHERE seq = ? AND account = ? AND device_id = ?'),
    nextSeq: db
      .prepare<[string, number], number>(
        `INSERT INTO envelope_seqs (account, device_id, next) VALUES (?, ?, 2)
         ON CONFLICT (account, device_id) DO UPDATE SET next = next + 1 RETURNING next - 1`,
      )
      .pluck(),
    purge: db.prepare<
      [number, number],
      { seq: number; account: string; device_id: number; sender: string | null; sender_device: number | null }
    >(
      `DELETE FROM envelopes WHERE id IN (SELECT id FROM envelopes WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)
       RETURNING seq, account, device_id, sender, sender_device`,
    ),
    getDeviceListVersion: db.prepare<[string], number>('SELECT version FROM device_lists WHERE account = ?').pluck(),
    putDeviceList: db.prepare(
      `INSERT INTO device_lists (account, account_key, version, devices, signature) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (account) DO UPDATE SET account_key = excluded.account_key, version = excluded.version,
         devices = excluded.devices, signature = excluded.signature`,
    ),
    setNextDeviceId: db.prepare('UPDATE accounts SET next_device_id = ? WHERE name = ?'),
    putDeliveryToken: db.prepare(
      `INSERT INTO delivery_tokens (account, verifier) SELECT ?, ? WHERE EXISTS (SELECT 1 FROM accounts WHERE name = ?)
       ON CONFLICT (account) DO UPDATE SET verifier = excluded.verifier`,
    ),
  };
  const deviceIds = (account: string): number[] => s.deviceIds.all(account);
  const queueLength = (account: string, deviceId: number): number => s.queueLength.get(account, deviceId) ?? 0;
  const oneTimeIds = (account: string, deviceId: number) => ({
    ec: s.oneTimeIds.all(account, deviceId, 'ec'),
    pq: s.oneTimeIds.all(account, deviceId, 'pq'),
  });
  const counts = (account: string, deviceId: number): PreKeyCounts => ({
    oneTimePreKeys: s.countOneTime.get(account, deviceId, 'ec') ?? 0,
    pqOneTimePreKeys: s.countOneTime.get(account, deviceId, 'pq') ?? 0,
  });

  return {
    createAccount: db.transaction((account: string, deviceName: string, identityKey: Uint8Array, now: number) => {
      if (s.accountExists.get(account) !== undefined) throw new StoreConflict(`the account ${account} exists`);
      s.insertAccount.run(account, now);
      s.insertDevice.run(account, 1, deviceName, identityKey, now, now);
      return toDevice(s.getDevice.get(account, 1)!);
    }),

    addDevice: db.transaction((account: string, device: NewDevice, expectedDeviceIds: readonly number[]) => {
      const row = s.accountExists.get(account);
      if (row === undefined || !sameIds(deviceIds(account), expectedDeviceIds)) {
        throw new StoreConflict(`the devices of ${account} changed`);
      }
      s.bumpDeviceId.run(account);
      s.insertDevice.run(account, row.next_device_id, device.name, device.identityKey, device.now, device.now);
      return toDevice(s.getDevice.get(account, row.next_device_id)!);
    }),

    removeDevice: db.transaction((account: string, deviceId: number, expectedDeviceIds: readonly number[]) => {
      if (!sameIds(deviceIds(account), expectedDeviceIds)) throw new StoreConflict(`the devices of ${account} changed`);
      return s.removeDevice.run(account, deviceId).changes > 0;
    }),

    touchDevice: (account: string, deviceId: number, now: number) => {
      s.touchDevice.run(now, account, deviceId);
    },

    writeDeviceList: db.transaction((account: string, write: DeviceListWrite) => {
      const row = s.accountExists.get(account);
      if (row === undefined || s.getDeviceListVersion.get(account) !== write.expectedVersion) {
        throw new StoreConflict(`the device list of ${account} changed`);
      }
      const { add, list } = write;
      if (add !== undefined) {
        if (add.deviceId < row.next_device_id) throw new StoreConflict(`device id ${add.deviceId} was used`);
        s.insertDevice.run(account, add.deviceId, add.name, add.identityKey, add.now, add.now);
        s.setNextDeviceId.run(add.deviceId + 1, account);
      }
      for (const deviceId of write.remove) s.removeDevice.run(account, deviceId);
      s.putDeviceList.run(account, list.accountKey, list.version, encodeDevices(list.devices), list.signature);
    }),

    storePreKeys: db.transaction(
      (account: string, deviceId: number, upload: PreKeyUpload, expected: OneTimePreKeyIds): PreKeyCounts => {
        const stored = oneTimeIds(account, deviceId);
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
        return counts(account, deviceId);
      },
    ),

    takePreKeys: db.transaction((account: string): TakenPreKeys[] =>
      s.listDevices.all(account).flatMap((device) => {
        const signed = s.getSigned.get(account, device.device_id, 'signed');
        const lastResort = s.getSigned.get(account, device.device_id, 'pq_last_resort');
        if (signed === undefined || lastResort === undefined) return [];
        const ec = s.takeOneTime.get(account, device.device_id, 'ec');
        const pq = s.takeOneTime.get(account, device.device_id, 'pq');
        return [
          {
            deviceId: device.device_id,
            identityKey: device.identity_key,
            signedPreKey: toSigned(signed),
            pqLastResortPreKey: toSigned(lastResort),
            oneTimePreKey: ec === undefined ? undefined : { keyId: ec.key_id, publicKey: ec.public_key },
            pqOneTimePreKey: pq === undefined ? undefined : toSigned(pq),
            remaining: counts(account, device.device_id),
          },
        ];
      }),
    ),

    // ONE transaction for the whole group commit: a failed precondition rolls all of it back.
    appendEnvelopes: db.transaction((writes: readonly EnvelopeWrite[]): string[][] => {
      // Read once per batch, then kept in step: within the transaction only this batch changes them
      // (a device's queue grows by one per envelope inserted; no write here adds or drops a device).
      const devicesOf = new Map<string, number[]>();
      const queued = new Map<string, number>();
      return writes.map((write) => {
        const { from, to, envelopes } = write;
        const devices = devicesOf.get(to) ?? deviceIds(to);
        devicesOf.set(to, devices);
        if (!sameIds(devices, write.deviceIds)) throw new StoreConflict(`the devices of ${to} changed`);
        return envelopes.map((envelope, i) => {
          const queue = `${envelope.deviceId}/${to}`;
          const length = queued.get(queue) ?? queueLength(to, envelope.deviceId);
          if (length > write.queuedAtMost[i]!) throw new StoreConflict(`the queue of ${to}/${envelope.deviceId} grew`);
          queued.set(queue, length + 1);
          // The id the device sees counts its own envelopes only (schema migration 5).
          const seq = s.nextSeq.get(to, envelope.deviceId)!;
          s.insertEnvelope.run(
            to,
            envelope.deviceId,
            // A sealed envelope (no `from`) is stored with no sender at all (schema migration 7).
            from?.account ?? null,
            from?.deviceId ?? null,
            write.serverTime,
            write.expiresAt,
            envelope.payload,
            seq,
          );
          return String(seq);
        });
      });
    }),

    ack: db.transaction(({ account, deviceId, envelopeIds }: DeviceAck): number => {
      let deleted = 0;
      for (const id of envelopeIds) {
        if (/^\d{1,15}$/.test(id)) deleted += s.ack.run(Number(id), account, deviceId).changes;
      }
      return deleted;
    }),

    purgeExpired: db.transaction((now: number, limit: number): ExpiredEnvelope[] =>
      s.purge.all(now, limit).map((r) => ({
        envelopeId: String(r.seq),
        from: r.sender === null ? undefined : { account: r.sender, deviceId: r.sender_device! },
        to: { account: r.account, deviceId: r.device_id },
      })),
    ),

    setDeliveryTokenVerifier: (account: string, verifier: Uint8Array) => {
      s.putDeliveryToken.run(account, verifier, account);
    },

    checkpoint: () => {
      db.pragma('wal_checkpoint(TRUNCATE)');
    },
  };
}

function encodeDevices(devices: readonly DeviceListEntry[]): string {
  return JSON.stringify(devices.map((d) => ({ ...d, identityKey: Buffer.from(d.identityKey).toString('hex') })));
}
