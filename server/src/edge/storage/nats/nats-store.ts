import type {
  DeviceListWrite,
  DeviceRecord,
  EnvelopeWrite,
  ExpiredEnvelope,
  NewDevice,
  OneTimePreKeyIds,
  PreKeyCounts,
  PreKeyUpload,
  QueuedBytes,
  StorageUsage,
  Store,
  StoredDeviceList,
  StoredEnvelope,
  TakenPreKeys,
} from '../../../core/store.ts';
import { AccountDirectory } from './account-directory.ts';
import { DeliveryTokens } from './delivery-tokens.ts';
import { EnvelopeQueue } from './envelope-queue.ts';
import { type NatsHealth, NatsLink, type NatsStoreOptions } from './link.ts';
import { PreKeyDirectory } from './prekey-directory.ts';
import { QueuedByteCounters } from './queued-bytes.ts';

/**
 * The Store on NATS JetStream (cluster mode: every Pulse node of a cluster uses
 * the same NATS): accounts and devices and prekeys in KV, offline envelopes in
 * a stream. Like the SQLite store it decides nothing: it reads, and writes
 * under the preconditions the core hands it (KV revisions and expected
 * subject sequences make them atomic). See the files beside it.
 *
 * Durability is JetStream's: a write returns once the stream's replicas
 * acknowledged it. On one nats-server 2.9 that is the page cache (safe against
 * a killed process, not a power cut); on a 3-server cluster with replicas = 3
 * it is a quorum of servers (README "Cluster mode").
 */
export class NatsStore implements Store {
  readonly #link: NatsLink;
  readonly #accounts: AccountDirectory;
  readonly #preKeys: PreKeyDirectory;
  readonly #envelopes: EnvelopeQueue;
  readonly #bytes: QueuedByteCounters;
  readonly #deliveryTokens: DeliveryTokens;

  /** Starts connecting at once; calls fail with StoreUnavailable until NATS is reachable (see `ready`). */
  constructor(options: NatsStoreOptions) {
    this.#link = new NatsLink(options);
    this.#accounts = new AccountDirectory(this.#link);
    this.#preKeys = new PreKeyDirectory(this.#link, this.#accounts);
    this.#bytes = new QueuedByteCounters(this.#link);
    this.#envelopes = new EnvelopeQueue(this.#link, this.#accounts, this.#bytes);
    this.#deliveryTokens = new DeliveryTokens(this.#link, this.#accounts);
    this.ready = this.#link.open();
    // Whoever does not wait for `ready` learns of a failure from `health()` (and UNAVAILABLE answers).
    this.ready.catch(() => {});
  }

  /** Settles once NATS was reached and the stream and buckets exist (the first time). */
  readonly ready: Promise<void>;

  /** Opens a store and waits until it can be used. */
  static async open(options: NatsStoreOptions): Promise<NatsStore> {
    const store = new NatsStore(options);
    await store.ready;
    return store;
  }

  health(): NatsHealth {
    return this.#link.health();
  }

  deliveryTokenVerifier(account: string): Promise<Uint8Array | undefined> {
    return this.#deliveryTokens.verifier(account);
  }

  setDeliveryTokenVerifier(account: string, verifier: Uint8Array): Promise<void> {
    return this.#deliveryTokens.set(account, verifier);
  }

  createAccount(account: string, deviceName: string, identityKey: Uint8Array, now: number): Promise<DeviceRecord> {
    return this.#accounts.create(account, deviceName, identityKey, now);
  }

  addDevice(account: string, device: NewDevice, expectedDeviceIds: readonly number[]): Promise<DeviceRecord> {
    return this.#accounts.add(account, device, expectedDeviceIds);
  }

  getDevice(account: string, deviceId: number): Promise<DeviceRecord | undefined> {
    return this.#accounts.get(account, deviceId);
  }

  listDevices(account: string): Promise<DeviceRecord[]> {
    return this.#accounts.list(account);
  }

  async removeDevice(account: string, deviceId: number, expectedDeviceIds: readonly number[]): Promise<boolean> {
    const removed = await this.#accounts.remove(account, deviceId, expectedDeviceIds);
    if (removed) await this.#forget(account, deviceId);
    return removed;
  }

  touchDevice(account: string, deviceId: number, now: number): Promise<void> {
    return this.#accounts.touch(account, deviceId, now);
  }

  deviceList(account: string): Promise<StoredDeviceList | undefined> {
    return this.#accounts.deviceList(account);
  }

  nextDeviceId(account: string): Promise<number | undefined> {
    return this.#accounts.nextDeviceId(account);
  }

  async writeDeviceList(account: string, write: DeviceListWrite): Promise<void> {
    const removed = await this.#accounts.writeDeviceList(account, write);
    await Promise.all(removed.map((deviceId) => this.#forget(account, deviceId)));
  }

  /** A removed device's prekeys and queue (after the account record no longer names it). */
  async #forget(account: string, deviceId: number): Promise<void> {
    await Promise.all([this.#preKeys.drop(account, deviceId), this.#envelopes.drop(account, deviceId)]);
  }

  oneTimePreKeyIds(account: string, deviceId: number): Promise<OneTimePreKeyIds> {
    return this.#preKeys.oneTimeIds(account, deviceId);
  }

  preKeyCounts(account: string, deviceId: number): Promise<PreKeyCounts> {
    return this.#preKeys.counts(account, deviceId);
  }

  storePreKeys(
    account: string,
    deviceId: number,
    upload: PreKeyUpload,
    expected: OneTimePreKeyIds,
  ): Promise<PreKeyCounts> {
    return this.#preKeys.store(account, deviceId, upload, expected);
  }

  takePreKeys(account: string): Promise<TakenPreKeys[]> {
    return this.#preKeys.take(account);
  }

  queueLength(account: string, deviceId: number): Promise<number> {
    return this.#envelopes.length(account, deviceId);
  }

  appendEnvelopes(writes: readonly EnvelopeWrite[]): Promise<string[][]> {
    return this.#envelopes.append(writes);
  }

  pending(account: string, deviceId: number, afterId: number, limit: number, now: number): Promise<StoredEnvelope[]> {
    return this.#envelopes.pending(account, deviceId, afterId, limit, now);
  }

  ack(account: string, deviceId: number, envelopeIds: readonly string[]): Promise<number> {
    return this.#envelopes.ack(account, deviceId, envelopeIds);
  }

  purgeExpired(now: number): Promise<ExpiredEnvelope[]> {
    return this.#envelopes.purgeExpired(now);
  }

  /** Kept as counters in KV (queued-bytes.ts): JetStream counts messages per subject, not bytes. */
  queuedBytes(account: string): Promise<QueuedBytes> {
    return this.#bytes.read(account);
  }

  /**
   * JetStream storage of the NATS account (all its streams). Free space is what
   * the account's JetStream limit leaves; with no limit set NATS does not say,
   * so `storage_max_bytes` alone bounds it (and NATS's own `max_file_store`).
   */
  usage(): Promise<StorageUsage> {
    return this.#link.run(async ({ jsm }) => {
      const info = await jsm.getAccountInfo();
      const limit = info.limits.max_storage;
      return {
        usedBytes: info.storage,
        freeBytes: limit > 0 ? Math.max(0, limit - info.storage) : Number.MAX_SAFE_INTEGER,
      };
    });
  }

  close(): Promise<void> {
    return this.#link.close();
  }
}
