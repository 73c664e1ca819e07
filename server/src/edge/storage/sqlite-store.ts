import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import {
  type DeviceListWrite,
  type DeviceRecord,
  type EnvelopeWrite,
  type ExpiredEnvelope,
  type NewDevice,
  type OneTimePreKeyIds,
  type PreKeyCounts,
  type PreKeyUpload,
  type QueuedBytes,
  type StorageUsage,
  type Store,
  type StoredDeviceList,
  type StoredEnvelope,
  StoreUnavailable,
  type TakenPreKeys,
} from '../../core/store.ts';
import { type DeviceRow, plainBytes, SHARED_READS, toDevice } from './rows.ts';
import { openReadConnection, prepareDatabaseFile } from './sqlite-file.ts';
import { SqliteWriter, type SqliteWriterOptions } from './writer/sqlite-writer.ts';

interface EnvelopeRow {
  seq: number;
  /** NULL: a sealed envelope (schema migration 7). */
  sender: string | null;
  sender_device: number | null;
  server_time: number;
  payload: Buffer;
}
interface DeviceListRow {
  account_key: Uint8Array;
  version: number;
  devices: string;
  signature: Uint8Array;
}

/** Rows one purge transaction deletes at most. */
const PURGE_BATCH = 1_000;
/** How old a free-space figure may be before the kernel is asked again (`#freeBytes`). */
const FREE_SPACE_MAX_AGE_MS = 1_000;

export type SqliteStoreOptions = SqliteWriterOptions;

/** The store's reads, prepared on the main thread's read-only connection. */
function prepareReads(db: Database.Database) {
  return {
    getDevice: db.prepare<[string, number], DeviceRow>(SHARED_READS.getDevice),
    listDevices: db.prepare<[string], DeviceRow>(SHARED_READS.listDevices),
    oneTimeIds: db.prepare<[string, number, string], number>(SHARED_READS.oneTimeIds).pluck(),
    countOneTime: db.prepare<[string, number, string], number>(SHARED_READS.countOneTime).pluck(),
    queueLength: db.prepare<[string, number], number>(SHARED_READS.queueLength).pluck(),
    pending: db.prepare<[string, number, number, number, number], EnvelopeRow>(
      `SELECT seq, sender, sender_device, server_time, payload FROM envelopes
       WHERE account = ? AND device_id = ? AND seq > ? AND expires_at > ? ORDER BY seq LIMIT ?`,
    ),
    queuedBytes: db.prepare<[string], { role: 'sent' | 'received'; n: number }>(
      'SELECT role, n FROM queued_bytes WHERE account = ?',
    ),
    nextDeviceId: db.prepare<[string], number>(SHARED_READS.nextDeviceId).pluck(),
    pageCount: db.prepare<[], number>('PRAGMA page_count').pluck(),
    pageSize: db.prepare<[], number>('PRAGMA page_size').pluck(),
    freePages: db.prepare<[], number>('PRAGMA freelist_count').pluck(),
    deliveryToken: db.prepare<[string], Buffer>('SELECT verifier FROM delivery_tokens WHERE account = ?').pluck(),
    getDeviceList: db.prepare<[string], DeviceListRow>(
      'SELECT account_key, version, devices, signature FROM device_lists WHERE account = ?',
    ),
  };
}
type Reads = ReturnType<typeof prepareReads>;

/**
 * The Store on one SQLite file. Writes run in the writer thread
 * (writer/sqlite-writer.ts, writer/worker.ts), each a transaction that checks
 * the precondition the core decided on (StoreConflict, rolled back, when it
 * does not hold), so no fsync ever blocks the event loop (issue 15). Reads run
 * here, on a read-only connection of the main thread: in WAL mode they never
 * wait for the writer, and a read issued after a write's promise resolved sees
 * that write (its commit returned before the reply was sent). No rule of the
 * protocol is decided here.
 *
 * Durability (writer/protocol.ts WRITE_MODES): WAL with synchronous=FULL for
 * every write whose loss would break a promise — `appendEnvelopes` returns ids
 * only after the WAL is fsynced, and the core acknowledges (`sent`) only after
 * it returns, so a kill -9 or a power cut loses no acknowledged envelope;
 * accounts, devices, device lists, prekey uploads and takes likewise. Acks,
 * last-seen touches and purges commit with synchronous=NORMAL: they survive a
 * killed process, and a power cut can only bring back an acked envelope, which
 * is delivered again and deduplicated by the client (README "Envelopes").
 * Writes arriving together share one transaction and one fsync (group commit).
 *
 * What was deleted stays deleted (issue 11): the database and its WAL are
 * created mode 0600 in a 0700 directory; `secure_delete` zeroes deleted
 * content; the WAL is checkpointed and truncated to `journal_size_limit` after
 * each purge; the purge deletes in batches of PURGE_BATCH rows, one short
 * transaction each, other writes running in between.
 */
export class SqliteStore implements Store {
  readonly #directory: string;
  readonly #writer: SqliteWriter;
  readonly #opened: Promise<Reads>;
  #db: Database.Database | undefined;
  #reads: Reads | undefined;
  #closed = false;
  /** The last free-space figure asked for (a promise: callers in the same moment share one statfs). */
  #freeSpace: { at: number; bytes: Promise<number> } | undefined;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.#directory = dirname(path);
    prepareDatabaseFile(path);
    this.#writer = SqliteWriter.acquire(path, options);
    // The schema exists once the writer is ready (it runs the migrations).
    this.#opened = this.#writer.ready.then(() => {
      if (this.#closed) throw new StoreUnavailable('the store is closed');
      this.#db = openReadConnection(path);
      this.#reads = prepareReads(this.#db);
      return this.#reads;
    });
    this.#opened.catch(() => {});
  }

  /** Whether writes can be carried out (false once the writer thread stopped: `/healthz`). */
  get writable(): boolean {
    return !this.#closed && this.#writer.available;
  }

  /** Writes at the writer thread not answered yet, and writes waiting for a slot (storage.max_writes_in_flight). */
  get writesInFlight(): { readonly sent: number; readonly waiting: number } {
    return { sent: this.#writer.inFlight, waiting: this.#writer.waiting };
  }

  #read(): Reads | Promise<Reads> {
    return this.#reads ?? this.#opened;
  }

  #write: SqliteWriter['call'] = (op, ...args) => {
    if (this.#closed) return Promise.reject(new StoreUnavailable('the store is closed'));
    return this.#writer.call(op, ...args);
  };

  createAccount(account: string, deviceName: string, identityKey: Uint8Array, now: number): Promise<DeviceRecord> {
    return this.#write('createAccount', account, deviceName, identityKey, now);
  }

  addDevice(account: string, device: NewDevice, expectedDeviceIds: readonly number[]): Promise<DeviceRecord> {
    return this.#write('addDevice', account, device, expectedDeviceIds);
  }

  async getDevice(account: string, deviceId: number): Promise<DeviceRecord | undefined> {
    const row = (await this.#read()).getDevice.get(account, deviceId);
    return row === undefined ? undefined : toDevice(row);
  }

  async listDevices(account: string): Promise<DeviceRecord[]> {
    return (await this.#read()).listDevices.all(account).map(toDevice);
  }

  removeDevice(account: string, deviceId: number, expectedDeviceIds: readonly number[]): Promise<boolean> {
    return this.#write('removeDevice', account, deviceId, expectedDeviceIds);
  }

  touchDevice(account: string, deviceId: number, now: number): Promise<void> {
    return this.#write('touchDevice', account, deviceId, now);
  }

  async oneTimePreKeyIds(account: string, deviceId: number): Promise<OneTimePreKeyIds> {
    const ids = (await this.#read()).oneTimeIds;
    return { ec: ids.all(account, deviceId, 'ec'), pq: ids.all(account, deviceId, 'pq') };
  }

  storePreKeys(
    account: string,
    deviceId: number,
    upload: PreKeyUpload,
    expected: OneTimePreKeyIds,
  ): Promise<PreKeyCounts> {
    return this.#write('storePreKeys', account, deviceId, upload, expected);
  }

  async preKeyCounts(account: string, deviceId: number): Promise<PreKeyCounts> {
    const count = (await this.#read()).countOneTime;
    return {
      oneTimePreKeys: count.get(account, deviceId, 'ec') ?? 0,
      pqOneTimePreKeys: count.get(account, deviceId, 'pq') ?? 0,
    };
  }

  takePreKeys(account: string): Promise<TakenPreKeys[]> {
    return this.#write('takePreKeys', account);
  }

  async queueLength(account: string, deviceId: number): Promise<number> {
    return (await this.#read()).queueLength.get(account, deviceId) ?? 0;
  }

  /** Group commit: ONE transaction (and one fsync) for all of `writes`; a failed precondition rolls all of it back. */
  appendEnvelopes(writes: readonly EnvelopeWrite[]): Promise<string[][]> {
    return this.#write('appendEnvelopes', writes);
  }

  async pending(
    account: string,
    deviceId: number,
    afterId: number,
    limit: number,
    now: number,
  ): Promise<StoredEnvelope[]> {
    return (await this.#read()).pending.all(account, deviceId, afterId, now, limit).map((r) => ({
      envelopeId: String(r.seq),
      ...(r.sender === null ? { sealed: true as const } : { from: { account: r.sender, deviceId: r.sender_device! } }),
      serverTime: r.server_time,
      payload: plainBytes(r.payload),
    }));
  }

  /** The acks of one event-loop turn, over all devices, share one transaction (issue 15), without an fsync of their own. */
  ack(account: string, deviceId: number, envelopeIds: readonly string[]): Promise<number> {
    return this.#write('ack', { account, deviceId, envelopeIds });
  }

  /** Deletes in batches of PURGE_BATCH (each its own short transaction), other writes running in between. */
  async purgeExpired(now: number): Promise<ExpiredEnvelope[]> {
    const expired: ExpiredEnvelope[] = [];
    for (;;) {
      const batch = await this.#write('purgeExpired', now, PURGE_BATCH);
      expired.push(...batch);
      if (batch.length < PURGE_BATCH) break;
    }
    // What the purge deleted leaves the WAL too: checkpoint, then truncate it to journal_size_limit.
    if (expired.length > 0) await this.#write('checkpoint');
    return expired;
  }

  async queuedBytes(account: string): Promise<QueuedBytes> {
    const rows = (await this.#read()).queuedBytes.all(account);
    return {
      sent: rows.find((r) => r.role === 'sent')?.n ?? 0,
      received: rows.find((r) => r.role === 'received')?.n ?? 0,
    };
  }

  async usage(): Promise<StorageUsage> {
    const s = await this.#read();
    // Pages in use: free pages (acked, purged) are written again before the file grows.
    const usedBytes = (s.pageCount.get()! - s.freePages.get()!) * s.pageSize.get()!;
    return { usedBytes, freeBytes: await this.#freeBytes() };
  }

  /**
   * Free space on the database's file system, asked of the kernel at most once per
   * FREE_SPACE_MAX_AGE_MS and off the main thread (statfs on libuv's pool): the group
   * commit asks before every batch, and a synchronous statfs behind a busy disk held
   * the event loop (issue 11, abuse suite). A figure up to that age is as good for the
   * disk high-water mark, which keeps a margin anyway.
   */
  #freeBytes(): Promise<number> {
    const now = performance.now();
    if (this.#freeSpace === undefined || now - this.#freeSpace.at > FREE_SPACE_MAX_AGE_MS) {
      const asked = statfs(this.#directory).then((fs) => fs.bavail * fs.bsize);
      this.#freeSpace = { at: now, bytes: asked };
      // A failed statfs is not remembered: the next batch asks again.
      asked.catch(() => {
        if (this.#freeSpace?.bytes === asked) this.#freeSpace = undefined;
      });
    }
    return this.#freeSpace.bytes;
  }

  async deviceList(account: string): Promise<StoredDeviceList | undefined> {
    const row = (await this.#read()).getDeviceList.get(account);
    return row === undefined ? undefined : toDeviceList(row);
  }

  async nextDeviceId(account: string): Promise<number | undefined> {
    return (await this.#read()).nextDeviceId.get(account);
  }

  writeDeviceList(account: string, write: DeviceListWrite): Promise<void> {
    return this.#write('writeDeviceList', account, write);
  }

  async deliveryTokenVerifier(account: string): Promise<Uint8Array | undefined> {
    const verifier = (await this.#read()).deliveryToken.get(account);
    return verifier === undefined ? undefined : new Uint8Array(verifier);
  }

  setDeliveryTokenVerifier(account: string, verifier: Uint8Array): Promise<void> {
    return this.#write('setDeliveryTokenVerifier', account, verifier);
  }

  /** Waits for the writes already made (they commit), then closes the read connection and releases the writer. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Closed before the writer: the writer's connection is then the last one and checkpoints the WAL.
    this.#db?.close();
    await this.#writer.release();
  }
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
