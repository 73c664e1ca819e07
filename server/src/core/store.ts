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
 * Every method is asynchronous, so a networked store (NATS JetStream) can
 * implement it as well as SQLite (edge/storage/); `test/storage-suite.ts` is
 * the one suite every implementation must pass. Only ciphertext and the routing
 * metadata needed to deliver it are stored.
 */

/** A precondition did not hold (the data changed since it was read), or a name is taken: nothing was written. */
export class StoreConflict extends Error {
  override readonly name = 'StoreConflict';
}

/**
 * The store cannot be reached now (a networked store lost its connection): the
 * operation was not carried out, or not confirmed. The core answers UNAVAILABLE
 * instead of acknowledging what it could not store.
 */
export class StoreUnavailable extends Error {
  override readonly name = 'StoreUnavailable';
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

/**
 * A stored envelope as delivered: with its sender, or sealed (PROTOCOL.md
 * "Sealed sender"): then the store holds no sender at all and `from` is absent.
 */
export interface StoredEnvelope {
  readonly envelopeId: string;
  readonly from?: Address | undefined;
  readonly sealed?: true | undefined;
  readonly serverTime: number;
  readonly payload: Uint8Array;
}

export interface ExpiredEnvelope {
  readonly envelopeId: string;
  /** Absent for a sealed envelope: nobody can be told it expired. */
  readonly from: Address | undefined;
  readonly to: Address;
}

/** A device as an account's signed device list names it (PROTOCOL.md "Devices"). */
export interface DeviceListEntry {
  readonly deviceId: number;
  readonly identityKey: Uint8Array;
  readonly name: string;
  readonly addedAt: number;
}

/** An account's identity key and its signed device list, as last accepted. */
export interface StoredDeviceList {
  readonly accountKey: Uint8Array;
  readonly version: number;
  readonly devices: readonly DeviceListEntry[];
  readonly signature: Uint8Array;
}

/**
 * One accepted device list: the list to store and the device rows that follow
 * from it, written in one atomic step.
 */
export interface DeviceListWrite {
  readonly list: StoredDeviceList;
  /** Precondition: the stored list's version is still this (undefined: no list stored yet). */
  readonly expectedVersion: number | undefined;
  /** A device the list adds (an approved link), under the id the list gives it; precondition: the id was never used. */
  readonly add?: {
    readonly deviceId: number;
    readonly name: string;
    readonly identityKey: Uint8Array;
    readonly now: number;
  };
  /** Devices the list drops: removed with their prekeys and queued envelopes. */
  readonly remove: readonly number[];
}

/** One accepted `send`: envelopes for devices of `to`, and what the decision to accept it saw. */
export interface EnvelopeWrite {
  /** The sender; undefined for a sealed send: the store keeps no sender (and charges no sender quota). */
  readonly from: Address | undefined;
  readonly to: string;
  readonly envelopes: readonly { readonly deviceId: number; readonly payload: Uint8Array }[];
  readonly serverTime: number;
  readonly expiresAt: number;
  /** Precondition: the device ids of `to`, ascending, are exactly these. */
  readonly deviceIds: readonly number[];
  /** Precondition, one per envelope: its device holds at most this many envelopes before the envelope is added. */
  readonly queuedAtMost: readonly number[];
}

/** Payload bytes of the undelivered envelopes stored for and from one account (byte quotas). */
export interface QueuedBytes {
  /** Envelopes this account sent that still wait for a recipient (sealed ones are nobody's). */
  readonly sent: number;
  /** Envelopes waiting for this account's devices. */
  readonly received: number;
}

/** How full the storage is (the disk high-water mark, README.md "Limits"). */
export interface StorageUsage {
  /** Bytes the store occupies (SQLite: the database file). */
  readonly usedBytes: number;
  /** Bytes still free where it writes (SQLite: the file system holding the database). */
  readonly freeBytes: number;
}

export interface Store {
  // ---- accounts and devices ----------------------------------------------------

  /** Creates an account with its first device (id 1). StoreConflict if the name is taken (a uniqueness constraint). */
  createAccount(account: string, deviceName: string, identityKey: Uint8Array, now: number): Promise<DeviceRecord>;
  /**
   * Adds a device under the account's next device id (ids are never reused).
   * Precondition: the account's device ids are still `expectedDeviceIds`.
   */
  addDevice(account: string, device: NewDevice, expectedDeviceIds: readonly number[]): Promise<DeviceRecord>;
  getDevice(account: string, deviceId: number): Promise<DeviceRecord | undefined>;
  /** The account's devices by id (none: no such account). */
  listDevices(account: string): Promise<DeviceRecord[]>;
  /**
   * Removes a device with its prekeys and queued envelopes; false if it was not there.
   * Precondition: the account's device ids are still `expectedDeviceIds`.
   */
  removeDevice(account: string, deviceId: number, expectedDeviceIds: readonly number[]): Promise<boolean>;
  touchDevice(account: string, deviceId: number, now: number): Promise<void>;

  // ---- signed device lists --------------------------------------------------------

  /** The account's stored identity key and device list (undefined: no such account, or none stored). */
  deviceList(account: string): Promise<StoredDeviceList | undefined>;
  /** The id the account's next device would get (ids are never reused); undefined: no such account. */
  nextDeviceId(account: string): Promise<number | undefined>;
  /** Stores `write.list` and adds and removes the devices it names, all or nothing (StoreConflict when a precondition fails). */
  writeDeviceList(account: string, write: DeviceListWrite): Promise<void>;

  // ---- sealed sender -------------------------------------------------------------

  /** What the account registered of its delivery token (its SHA-256); undefined: none, or no such account. */
  deliveryTokenVerifier(account: string): Promise<Uint8Array | undefined>;
  /** Registers (or replaces) the account's delivery token verifier; nothing happens for an unknown account. */
  setDeliveryTokenVerifier(account: string, verifier: Uint8Array): Promise<void>;

  // ---- prekeys -------------------------------------------------------------------

  oneTimePreKeyIds(account: string, deviceId: number): Promise<OneTimePreKeyIds>;
  preKeyCounts(account: string, deviceId: number): Promise<PreKeyCounts>;
  /**
   * Stores an upload (signatures already checked; a one-time key id already
   * stored is replaced), all or nothing. Precondition: the device's one-time
   * prekey ids are still `expected`. Returns the counts after the write.
   */
  storePreKeys(
    account: string,
    deviceId: number,
    upload: PreKeyUpload,
    expected: OneTimePreKeyIds,
  ): Promise<PreKeyCounts>;
  /**
   * For every device of `account` holding a signed prekey and a PQ last-resort
   * prekey, in device order: reads both and removes its lowest-id EC and PQ
   * one-time prekeys, if any, in one atomic step, so a one-time prekey is handed
   * out at most once.
   */
  takePreKeys(account: string): Promise<TakenPreKeys[]>;

  // ---- envelopes -----------------------------------------------------------------

  /** Envelopes waiting for one device. */
  queueLength(account: string, deviceId: number): Promise<number>;
  /** Payload bytes of the envelopes still stored that `account` sent, and that wait for it. */
  queuedBytes(account: string): Promise<QueuedBytes>;
  /** How full the storage is now. */
  usage(): Promise<StorageUsage>;
  /**
   * Group commit: every write in ONE durable transaction, returning each write's
   * envelope ids only once it has committed. All or nothing: if any write's
   * precondition fails, nothing is written and StoreConflict is thrown.
   */
  appendEnvelopes(writes: readonly EnvelopeWrite[]): Promise<string[][]>;
  /**
   * True if `appendEnvelopes` calls commit in the order they are made, each
   * after the one before (its envelope ids higher), even when made before that
   * one returned: one writer taking them in turn (SQLite's writer thread). The
   * group commit then writes a device's next batch while its last one commits;
   * otherwise (absent: NATS, where publishes to one subject race) it waits.
   */
  readonly appendsInCallOrder?: boolean;
  /** Envelopes waiting for a device after `afterId` (0: from the start), oldest first, unexpired. */
  pending(account: string, deviceId: number, afterId: number, limit: number, now: number): Promise<StoredEnvelope[]>;
  /** Deletes acknowledged envelopes of this device; returns how many. */
  ack(account: string, deviceId: number, envelopeIds: readonly string[]): Promise<number>;
  /** Deletes envelopes past their TTL; returns what was deleted (to tell the senders). */
  purgeExpired(now: number): Promise<ExpiredEnvelope[]>;

  close(): Promise<void>;
}
