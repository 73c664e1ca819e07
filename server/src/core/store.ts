import type { PulseError } from './errors.ts';

/**
 * The storage interface the router depends on. One implementation (SQLite) ships;
 * `test/storage.test.ts` is the one suite every implementation must pass.
 *
 * Only ciphertext and the routing metadata needed to deliver it are stored: who
 * sent to which device, when, and until when to keep it. Failures the client
 * should hear about are thrown as PulseError.
 */

export interface DeviceRecord {
  readonly account: string;
  readonly deviceId: number;
  readonly name: string;
  readonly identityKey: Uint8Array;
  readonly createdAt: number;
  readonly lastSeenAt: number;
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

export interface BundleRecord {
  readonly deviceId: number;
  readonly identityKey: Uint8Array;
  readonly signedPreKey: SignedPreKeyRecord;
  readonly pqPreKey: SignedPreKeyRecord;
  readonly pqPreKeyIsLastResort: boolean;
  readonly oneTimePreKey?: PreKeyRecord | undefined;
  /** What remains for this device after this fetch (to warn its owner). */
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

export interface EnqueueRequest {
  readonly from: Address;
  readonly to: string;
  readonly envelopes: readonly { readonly deviceId: number; readonly payload: Uint8Array }[];
  readonly now: number;
  readonly expiresAt: number;
  /** Envelopes a device may hold; beyond it QUEUE_FULL. */
  readonly queueCap: number;
}

export interface Store {
  /** Creates an account with its first device (id 1). ACCOUNT_EXISTS if the name is taken. */
  createAccount(account: string, deviceName: string, identityKey: Uint8Array, now: number): DeviceRecord;
  /** Adds a device; NOT_FOUND, FORBIDDEN (key already linked, too many devices). */
  addDevice(
    account: string,
    deviceName: string,
    identityKey: Uint8Array,
    now: number,
    maxDevices: number,
  ): DeviceRecord;
  getDevice(account: string, deviceId: number): DeviceRecord | undefined;
  listDevices(account: string): DeviceRecord[];
  /** Removes a device with its prekeys and queued envelopes. */
  removeDevice(account: string, deviceId: number): boolean;
  touchDevice(account: string, deviceId: number, now: number): void;

  /** Stores what the device uploaded (signatures already checked by the caller). */
  storePreKeys(account: string, deviceId: number, upload: PreKeyUpload, maxPerDevice: number): PreKeyCounts;
  preKeyCounts(account: string, deviceId: number): PreKeyCounts;
  /**
   * One bundle per device of `account` that has a signed prekey, each one-time
   * prekey handed out at most once (atomically), else the last-resort PQ key.
   */
  takeBundles(account: string): BundleRecord[];

  /**
   * Durably stores envelopes addressed to every device of `to` (DEVICES_MISMATCH
   * otherwise; the sending device itself is left out when writing to its own
   * account). Returns the envelope ids only once the transaction has committed.
   */
  enqueue(request: EnqueueRequest): string[];
  /**
   * Group commit: many enqueues in ONE durable transaction, each all-or-nothing on
   * its own. Returns, per request, its ids or the PulseError that refused it.
   */
  enqueueBatch(requests: readonly EnqueueRequest[]): (string[] | PulseError)[];
  /** Envelopes waiting for a device after `afterId` (0: from the start), oldest first, unexpired. */
  pending(account: string, deviceId: number, afterId: number, limit: number, now: number): StoredEnvelope[];
  /** Deletes acknowledged envelopes of this device; returns how many. */
  ack(account: string, deviceId: number, envelopeIds: readonly string[]): number;
  /** Deletes envelopes past their TTL; returns what was deleted (to tell the senders). */
  purgeExpired(now: number): ExpiredEnvelope[];

  close(): void;
}
