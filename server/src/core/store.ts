/**
 * The storage port: reads and writes only. The core reads what a decision needs
 * (devices, prekey ids, queue lengths), decides by its rules (core/policy/), and
 * hands the store a write carrying, as a precondition, the values it decided on.
 * The store checks the precondition and writes in one atomic step, or writes
 * nothing and throws StoreConflict; the core then reads again and decides again
 * (core/policy/conflicts.ts). So no check-then-write race can push past a cap,
 * whether the writers are sessions of one process or servers sharing a store,
 * and a second implementation copies no rule: it compares values it is given.
 *
 * One implementation (SQLite, edge/storage/) ships; `test/storage-suite.ts` is
 * the one suite every implementation must pass. Only ciphertext and the routing
 * metadata needed to deliver it are stored.
 */

/** A precondition did not hold (the data changed since it was read), or a name is taken: nothing was written. */
export class StoreConflict extends Error {
  override readonly name = 'StoreConflict';
}

export interface DeviceRecord {
  readonly account: string;
  readonly deviceId: number;
  readonly name: string;
  readonly identityKey: Uint8Array;
  readonly createdAt: number;
  readonly lastSeenAt: number;
}

export interface NewDevice {
  readonly name: string;
  readonly identityKey: Uint8Array;
  readonly now: number;
}

export interface SignedPreKeyRecord {
  readonly keyId: number;
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
}

export interface PreKeyRecord {
  readonly keyId: number;
  readonly publicKey: Uint8Array;
}

export interface PreKeyUpload {
  readonly signedPreKey?: SignedPreKeyRecord | undefined;
  readonly pqLastResortPreKey?: SignedPreKeyRecord | undefined;
  readonly oneTimePreKeys?: readonly PreKeyRecord[] | undefined;
  readonly pqOneTimePreKeys?: readonly SignedPreKeyRecord[] | undefined;
}

export interface PreKeyCounts {
  readonly oneTimePreKeys: number;
  readonly pqOneTimePreKeys: number;
}

/** The key ids of a device's stored one-time prekeys, by kind, ascending. */
export interface OneTimePreKeyIds {
  readonly ec: readonly number[];
  readonly pq: readonly number[];
}

/** What one take removed for one device (see `takePreKeys`). */
export interface TakenPreKeys {
  readonly deviceId: number;
  readonly identityKey: Uint8Array;
  readonly signedPreKey: SignedPreKeyRecord;
  readonly pqLastResortPreKey: SignedPreKeyRecord;
  readonly oneTimePreKey?: PreKeyRecord | undefined;
  readonly pqOneTimePreKey?: SignedPreKeyRecord | undefined;
  /** What remains for this device after the take. */
  readonly remaining: PreKeyCounts;
}

export interface Address {
  readonly account: string;
  readonly deviceId: number;
}

export interface StoredEnvelope {
  readonly envelopeId: string;
  readonly from: Address;
  readonly serverTime: number;
  readonly payload: Uint8Array;
}

export interface ExpiredEnvelope {
  readonly envelopeId: string;
  readonly from: Address;
  readonly to: Address;
}

/** One accepted `send`: envelopes for devices of `to`, and what the decision to accept it saw. */
export interface EnvelopeWrite {
  readonly from: Address;
  readonly to: string;
  readonly envelopes: readonly { readonly deviceId: number; readonly payload: Uint8Array }[];
  readonly serverTime: number;
  readonly expiresAt: number;
  /** Precondition: the device ids of `to`, ascending, are exactly these. */
  readonly deviceIds: readonly number[];
  /** Precondition, one per envelope: its device holds at most this many envelopes before the envelope is added. */
  readonly queuedAtMost: readonly number[];
}

export interface Store {
  // ---- accounts and devices ----------------------------------------------------

  /** Creates an account with its first device (id 1). StoreConflict if the name is taken (a uniqueness constraint). */
  createAccount(account: string, deviceName: string, identityKey: Uint8Array, now: number): DeviceRecord;
  /**
   * Adds a device under the account's next device id (ids are never reused).
   * Precondition: the account's device ids are still `expectedDeviceIds`.
   */
  addDevice(account: string, device: NewDevice, expectedDeviceIds: readonly number[]): DeviceRecord;
  getDevice(account: string, deviceId: number): DeviceRecord | undefined;
  /** The account's devices by id (none: no such account). */
  listDevices(account: string): DeviceRecord[];
  /**
   * Removes a device with its prekeys and queued envelopes; false if it was not there.
   * Precondition: the account's device ids are still `expectedDeviceIds`.
   */
  removeDevice(account: string, deviceId: number, expectedDeviceIds: readonly number[]): boolean;
  touchDevice(account: string, deviceId: number, now: number): void;

  // ---- prekeys -------------------------------------------------------------------

  oneTimePreKeyIds(account: string, deviceId: number): OneTimePreKeyIds;
  preKeyCounts(account: string, deviceId: number): PreKeyCounts;
  /**
   * Stores an upload (signatures already checked; a one-time key id already
   * stored is replaced), all or nothing. Precondition: the device's one-time
   * prekey ids are still `expected`. Returns the counts after the write.
   */
  storePreKeys(account: string, deviceId: number, upload: PreKeyUpload, expected: OneTimePreKeyIds): PreKeyCounts;
  /**
   * For every device of `account` holding a signed prekey and a PQ last-resort
   * prekey, in device order: reads both and removes its lowest-id EC and PQ
   * one-time prekeys, if any, in one atomic step, so a one-time prekey is handed
   * out at most once.
   */
  takePreKeys(account: string): TakenPreKeys[];

  // ---- envelopes -----------------------------------------------------------------

  /** Envelopes waiting for one device. */
  queueLength(account: string, deviceId: number): number;
  /**
   * Group commit: every write in ONE durable transaction, returning each write's
   * envelope ids only once it has committed. All or nothing: if any write's
   * precondition fails, nothing is written and StoreConflict is thrown.
   */
  appendEnvelopes(writes: readonly EnvelopeWrite[]): string[][];
  /** Envelopes waiting for a device after `afterId` (0: from the start), oldest first, unexpired. */
  pending(account: string, deviceId: number, afterId: number, limit: number, now: number): StoredEnvelope[];
  /** Deletes acknowledged envelopes of this device; returns how many. */
  ack(account: string, deviceId: number, envelopeIds: readonly string[]): number;
  /** Deletes envelopes past their TTL; returns what was deleted (to tell the senders). */
  purgeExpired(now: number): ExpiredEnvelope[];

  close(): void;
}
