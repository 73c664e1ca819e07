import {
  type DeviceListWrite,
  type DeviceRecord,
  type EnvelopeWrite,
  type ExpiredEnvelope,
  type NewDevice,
  type OneTimePreKeyIds,
  type PreKeyCounts,
  type PreKeyRecord,
  type PreKeyUpload,
  type QueuedBytes,
  type SignedPreKeyRecord,
  type StorageUsage,
  type Store,
  StoreConflict,
  type StoredDeviceList,
  type StoredEnvelope,
  type TakenPreKeys,
} from '../../src/core/store.ts';

interface Account {
  nextDeviceId: number;
  readonly devices: Map<number, DeviceRecord>;
}

interface DeviceKeys {
  signed?: SignedPreKeyRecord;
  lastResort?: SignedPreKeyRecord;
  readonly ec: Map<number, PreKeyRecord>;
  readonly pq: Map<number, SignedPreKeyRecord>;
}

interface Queued {
  readonly id: number;
  readonly to: { account: string; deviceId: number };
  readonly envelope: StoredEnvelope;
  readonly expiresAt: number;
}

const sameIds = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((id, i) => id === b[i]);
const key = (account: string, deviceId: number) => `${account}\u0000${deviceId}`;
const ascending = (ids: Iterable<number>) => [...ids].sort((a, b) => a - b);

/**
 * A Store in plain Maps, for tests of the core without SQLite (test/core/). Like
 * any Store it only reads and writes, checking the preconditions it is handed;
 * the shared storage suite runs against it too (memory-store.test.ts), so it
 * keeps the contract the SQLite store keeps.
 */
export class MemoryStore implements Store {
  readonly #accounts = new Map<string, Account>();
  readonly #keys = new Map<string, DeviceKeys>();
  /** Envelopes in id order. */
  #envelopes: Queued[] = [];
  /** The next envelope id of each device: ids count one device's envelopes only (no global counter). */
  readonly #nextEnvelopeId = new Map<string, number>();
  readonly #deviceLists = new Map<string, StoredDeviceList>();
  readonly #deliveryTokens = new Map<string, Uint8Array>();

  async deliveryTokenVerifier(account: string): Promise<Uint8Array | undefined> {
    return this.#accounts.has(account) ? this.#deliveryTokens.get(account) : undefined;
  }

  async setDeliveryTokenVerifier(account: string, verifier: Uint8Array): Promise<void> {
    if (this.#accounts.has(account)) this.#deliveryTokens.set(account, verifier.slice());
  }

  async createAccount(
    account: string,
    deviceName: string,
    identityKey: Uint8Array,
    now: number,
  ): Promise<DeviceRecord> {
    if (this.#accounts.has(account)) throw new StoreConflict(`the account ${account} exists`);
    const device = { account, deviceId: 1, name: deviceName, identityKey, createdAt: now, lastSeenAt: now };
    this.#accounts.set(account, { nextDeviceId: 2, devices: new Map([[1, device]]) });
    return device;
  }

  async addDevice(account: string, device: NewDevice, expectedDeviceIds: readonly number[]): Promise<DeviceRecord> {
    const entry = this.#accounts.get(account);
    if (entry === undefined || !sameIds(this.#deviceIds(account), expectedDeviceIds)) {
      throw new StoreConflict(`the devices of ${account} changed`);
    }
    const record = {
      account,
      deviceId: entry.nextDeviceId++,
      name: device.name,
      identityKey: device.identityKey,
      createdAt: device.now,
      lastSeenAt: device.now,
    };
    entry.devices.set(record.deviceId, record);
    return record;
  }

  async getDevice(account: string, deviceId: number): Promise<DeviceRecord | undefined> {
    return this.#device(account, deviceId);
  }

  #device(account: string, deviceId: number): DeviceRecord | undefined {
    return this.#accounts.get(account)?.devices.get(deviceId);
  }

  async listDevices(account: string): Promise<DeviceRecord[]> {
    return this.#devices(account);
  }

  #devices(account: string): DeviceRecord[] {
    const devices = this.#accounts.get(account)?.devices;
    return devices === undefined ? [] : ascending(devices.keys()).map((id) => devices.get(id)!);
  }

  async removeDevice(account: string, deviceId: number, expectedDeviceIds: readonly number[]): Promise<boolean> {
    if (!sameIds(this.#deviceIds(account), expectedDeviceIds))
      throw new StoreConflict(`the devices of ${account} changed`);
    const removed = this.#accounts.get(account)?.devices.delete(deviceId) ?? false;
    if (removed) {
      this.#keys.delete(key(account, deviceId));
      this.#envelopes = this.#envelopes.filter((e) => e.to.account !== account || e.to.deviceId !== deviceId);
    }
    return removed;
  }

  async touchDevice(account: string, deviceId: number, now: number): Promise<void> {
    const devices = this.#accounts.get(account)?.devices;
    const device = devices?.get(deviceId);
    if (devices !== undefined && device !== undefined) devices.set(deviceId, { ...device, lastSeenAt: now });
  }

  async oneTimePreKeyIds(account: string, deviceId: number): Promise<OneTimePreKeyIds> {
    return this.#oneTimeIds(account, deviceId);
  }

  #oneTimeIds(account: string, deviceId: number): OneTimePreKeyIds {
    const keys = this.#keys.get(key(account, deviceId));
    return { ec: ascending(keys?.ec.keys() ?? []), pq: ascending(keys?.pq.keys() ?? []) };
  }

  async preKeyCounts(account: string, deviceId: number): Promise<PreKeyCounts> {
    return this.#counts(account, deviceId);
  }

  #counts(account: string, deviceId: number): PreKeyCounts {
    const keys = this.#keys.get(key(account, deviceId));
    return { oneTimePreKeys: keys?.ec.size ?? 0, pqOneTimePreKeys: keys?.pq.size ?? 0 };
  }

  async storePreKeys(
    account: string,
    deviceId: number,
    upload: PreKeyUpload,
    expected: OneTimePreKeyIds,
  ): Promise<PreKeyCounts> {
    const stored = this.#oneTimeIds(account, deviceId);
    if (!sameIds(stored.ec, expected.ec) || !sameIds(stored.pq, expected.pq)) {
      throw new StoreConflict(`the one-time prekeys of ${account}/${deviceId} changed`);
    }
    if (this.#device(account, deviceId) === undefined) throw new StoreConflict(`no device ${account}/${deviceId}`);
    let keys = this.#keys.get(key(account, deviceId));
    if (keys === undefined) {
      keys = { ec: new Map(), pq: new Map() };
      this.#keys.set(key(account, deviceId), keys);
    }
    if (upload.signedPreKey) keys.signed = upload.signedPreKey;
    if (upload.pqLastResortPreKey) keys.lastResort = upload.pqLastResortPreKey;
    for (const k of upload.oneTimePreKeys ?? []) keys.ec.set(k.keyId, { keyId: k.keyId, publicKey: k.publicKey });
    for (const k of upload.pqOneTimePreKeys ?? []) keys.pq.set(k.keyId, k);
    return this.#counts(account, deviceId);
  }

  async takePreKeys(account: string): Promise<TakenPreKeys[]> {
    const taken: TakenPreKeys[] = [];
    for (const device of this.#devices(account)) {
      const keys = this.#keys.get(key(account, device.deviceId));
      if (keys?.signed === undefined || keys.lastResort === undefined) continue;
      const take = <T>(map: Map<number, T>): T | undefined => {
        const [lowest] = ascending(map.keys());
        if (lowest === undefined) return undefined;
        const value = map.get(lowest);
        map.delete(lowest);
        return value;
      };
      const oneTimePreKey = take(keys.ec);
      const pqOneTimePreKey = take(keys.pq);
      taken.push({
        deviceId: device.deviceId,
        identityKey: device.identityKey,
        signedPreKey: keys.signed,
        pqLastResortPreKey: keys.lastResort,
        oneTimePreKey,
        pqOneTimePreKey,
        remaining: this.#counts(account, device.deviceId),
      });
    }
    return taken;
  }

  async queueLength(account: string, deviceId: number): Promise<number> {
    return this.#queueLength(account, deviceId);
  }

  #queueLength(account: string, deviceId: number): number {
    return this.#envelopes.filter((e) => e.to.account === account && e.to.deviceId === deviceId).length;
  }

  async queuedBytes(account: string): Promise<QueuedBytes> {
    let sent = 0;
    let received = 0;
    for (const { to, envelope } of this.#envelopes) {
      if (envelope.from?.account === account) sent += envelope.payload.length;
      if (to.account === account) received += envelope.payload.length;
    }
    return { sent, received };
  }

  /** What `usage` reports as free (tests of the disk high-water mark set it). */
  freeBytes = Number.MAX_SAFE_INTEGER;

  async usage(): Promise<StorageUsage> {
    const usedBytes = this.#envelopes.reduce((total, { envelope }) => total + envelope.payload.length, 0);
    return { usedBytes, freeBytes: this.freeBytes };
  }

  /** Each call does its work before it first awaits, so calls commit in call order (the group commit pipelines). */
  readonly appendsInCallOrder = true;

  async appendEnvelopes(writes: readonly EnvelopeWrite[]): Promise<string[][]> {
    // Check every precondition first, counting what earlier writes of the batch add: all or nothing.
    const added = new Map<string, number>();
    for (const write of writes) {
      if (!sameIds(this.#deviceIds(write.to), write.deviceIds))
        throw new StoreConflict(`the devices of ${write.to} changed`);
      for (const [i, envelope] of write.envelopes.entries()) {
        const k = key(write.to, envelope.deviceId);
        const queued = this.#queueLength(write.to, envelope.deviceId) + (added.get(k) ?? 0);
        if (queued > write.queuedAtMost[i]!)
          throw new StoreConflict(`the queue of ${write.to}/${envelope.deviceId} grew`);
        added.set(k, (added.get(k) ?? 0) + 1);
      }
    }
    return writes.map((write) =>
      write.envelopes.map((envelope) => {
        const device = key(write.to, envelope.deviceId);
        const id = this.#nextEnvelopeId.get(device) ?? 1;
        this.#nextEnvelopeId.set(device, id + 1);
        this.#envelopes.push({
          id,
          to: { account: write.to, deviceId: envelope.deviceId },
          envelope: {
            envelopeId: String(id),
            ...(write.from === undefined ? { sealed: true as const } : { from: write.from }),
            serverTime: write.serverTime,
            payload: envelope.payload,
          },
          expiresAt: write.expiresAt,
        });
        return String(id);
      }),
    );
  }

  async pending(
    account: string,
    deviceId: number,
    afterId: number,
    limit: number,
    now: number,
  ): Promise<StoredEnvelope[]> {
    return this.#envelopes
      .filter((e) => e.to.account === account && e.to.deviceId === deviceId && e.id > afterId && e.expiresAt > now)
      .slice(0, limit)
      .map((e) => e.envelope);
  }

  async ack(account: string, deviceId: number, envelopeIds: readonly string[]): Promise<number> {
    const ids = new Set(envelopeIds);
    const before = this.#envelopes.length;
    this.#envelopes = this.#envelopes.filter(
      (e) => !(e.to.account === account && e.to.deviceId === deviceId && ids.has(String(e.id))),
    );
    return before - this.#envelopes.length;
  }

  async purgeExpired(now: number): Promise<ExpiredEnvelope[]> {
    const expired = this.#envelopes.filter((e) => e.expiresAt <= now);
    this.#envelopes = this.#envelopes.filter((e) => e.expiresAt > now);
    return expired.map((e) => ({ envelopeId: e.envelope.envelopeId, from: e.envelope.from, to: e.to }));
  }

  async deviceList(account: string): Promise<StoredDeviceList | undefined> {
    return this.#deviceLists.get(account);
  }

  async nextDeviceId(account: string): Promise<number | undefined> {
    return this.#accounts.get(account)?.nextDeviceId;
  }

  async writeDeviceList(account: string, write: DeviceListWrite): Promise<void> {
    const stored = this.#accounts.get(account);
    if (stored === undefined || this.#deviceLists.get(account)?.version !== write.expectedVersion) {
      throw new StoreConflict(`the device list of ${account} changed`);
    }
    const { add } = write;
    if (add !== undefined && add.deviceId < stored.nextDeviceId) {
      throw new StoreConflict(`device id ${add.deviceId} was used`);
    }
    if (add !== undefined) {
      const { deviceId, name, identityKey, now } = add;
      stored.devices.set(deviceId, { account, deviceId, name, identityKey, createdAt: now, lastSeenAt: now });
      stored.nextDeviceId = deviceId + 1;
    }
    for (const deviceId of write.remove) {
      if (stored.devices.delete(deviceId)) {
        this.#keys.delete(key(account, deviceId));
        this.#envelopes = this.#envelopes.filter((e) => e.to.account !== account || e.to.deviceId !== deviceId);
      }
    }
    this.#deviceLists.set(account, write.list);
  }

  async close(): Promise<void> {}

  #deviceIds(account: string): number[] {
    return ascending(this.#accounts.get(account)?.devices.keys() ?? []);
  }
}
