import type { KV } from '@nats-io/kv';
import {
  type DeviceListWrite,
  type DeviceRecord,
  type NewDevice,
  StoreConflict,
  type StoredDeviceList,
} from '../../../core/store.ts';
import { compareAndSet, isWrongLastSequence, readRevision } from './compare-and-set.ts';
import type { NatsLink } from './link.ts';

/** One account in the accounts bucket: its devices, the next device id (ids are never reused), its signed device list. */
interface AccountRecord {
  readonly nextDeviceId: number;
  readonly devices: readonly StoredDevice[];
  readonly list?: StoredList;
}

/** StoredDeviceList with its bytes in base64. */
interface StoredList {
  readonly accountKey: string;
  readonly version: number;
  readonly devices: readonly { deviceId: number; identityKey: string; name: string; addedAt: number }[];
  readonly signature: string;
}

interface StoredDevice {
  readonly deviceId: number;
  readonly name: string;
  /** base64 */
  readonly identityKey: string;
  readonly createdAt: number;
  readonly lastSeenAt: number;
}

const encode = (record: AccountRecord): Uint8Array => new TextEncoder().encode(JSON.stringify(record));
const decode = (bytes: Uint8Array): AccountRecord => JSON.parse(new TextDecoder().decode(bytes)) as AccountRecord;
const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const bytesOf = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'base64'));

function storedList(list: StoredDeviceList): StoredList {
  return {
    accountKey: base64(list.accountKey),
    version: list.version,
    devices: list.devices.map((d) => ({ ...d, identityKey: base64(d.identityKey) })),
    signature: base64(list.signature),
  };
}

function toList(list: StoredList): StoredDeviceList {
  return {
    accountKey: bytesOf(list.accountKey),
    version: list.version,
    devices: list.devices.map((d) => ({ ...d, identityKey: bytesOf(d.identityKey) })),
    signature: bytesOf(list.signature),
  };
}

const sameIds = (devices: readonly StoredDevice[], expected: readonly number[]): boolean =>
  devices.length === expected.length && devices.every((device, i) => device.deviceId === expected[i]);

function toDevice(account: string, stored: StoredDevice): DeviceRecord {
  return {
    account,
    deviceId: stored.deviceId,
    name: stored.name,
    identityKey: bytesOf(stored.identityKey),
    createdAt: stored.createdAt,
    lastSeenAt: stored.lastSeenAt,
  };
}

function storedDevice(deviceId: number, device: NewDevice): StoredDevice {
  return {
    deviceId,
    name: device.name,
    identityKey: base64(device.identityKey),
    createdAt: device.now,
    lastSeenAt: device.now,
  };
}

/**
 * Accounts and their devices in JetStream KV, one key per account holding all
 * its devices (ascending ids): a write that must see the account's device ids
 * unchanged is one compare-and-set on that key, so the precondition and the
 * write are one atomic step, as in SQLite's transaction.
 */
export class AccountDirectory {
  readonly #link: NatsLink;

  constructor(link: NatsLink) {
    this.#link = link;
  }

  create(account: string, deviceName: string, identityKey: Uint8Array, now: number): Promise<DeviceRecord> {
    const first = storedDevice(1, { name: deviceName, identityKey, now });
    return this.#link.run(async ({ accounts }) => {
      try {
        await accounts.create(this.#key(account), encode({ nextDeviceId: 2, devices: [first] }));
      } catch (error) {
        if (isWrongLastSequence(error)) throw new StoreConflict(`the account ${account} exists`);
        throw error;
      }
      return toDevice(account, first);
    });
  }

  async add(account: string, device: NewDevice, expectedDeviceIds: readonly number[]): Promise<DeviceRecord> {
    const added = await this.#change(account, (record) => {
      if (record === undefined || !sameIds(record.devices, expectedDeviceIds)) {
        throw new StoreConflict(`the devices of ${account} changed`);
      }
      const stored = storedDevice(record.nextDeviceId, device);
      return {
        record: { nextDeviceId: record.nextDeviceId + 1, devices: [...record.devices, stored] },
        result: toDevice(account, stored),
      };
    });
    return added!;
  }

  async remove(account: string, deviceId: number, expectedDeviceIds: readonly number[]): Promise<boolean> {
    const removed = await this.#change(account, (record) => {
      if (!sameIds(record?.devices ?? [], expectedDeviceIds))
        throw new StoreConflict(`the devices of ${account} changed`);
      if (record === undefined || !record.devices.some((d) => d.deviceId === deviceId)) return undefined;
      return { record: { ...record, devices: record.devices.filter((d) => d.deviceId !== deviceId) }, result: true };
    });
    return removed ?? false;
  }

  /** Records when a device was last seen: best effort (a write racing it wins, this one gives up). */
  async touch(account: string, deviceId: number, now: number): Promise<void> {
    try {
      await this.#change(account, (record) => {
        if (record === undefined || !record.devices.some((d) => d.deviceId === deviceId)) return undefined;
        const devices = record.devices.map((d) => (d.deviceId === deviceId ? { ...d, lastSeenAt: now } : d));
        return { record: { ...record, devices }, result: true };
      });
    } catch (error) {
      if (!(error instanceof StoreConflict)) throw error;
    }
  }

  /**
   * Stores an accepted device list with the device it adds and without those it
   * drops, in one compare-and-set; returns the ids of the devices removed (their
   * prekeys and queues are dropped next).
   */
  async writeDeviceList(account: string, write: DeviceListWrite): Promise<number[]> {
    const removed = await this.#change(account, (record) => {
      if (record === undefined || record.list?.version !== write.expectedVersion) {
        throw new StoreConflict(`the device list of ${account} changed`);
      }
      const { add } = write;
      let { nextDeviceId, devices } = record;
      if (add !== undefined) {
        if (add.deviceId < nextDeviceId) throw new StoreConflict(`device id ${add.deviceId} was used`);
        devices = [...devices, storedDevice(add.deviceId, add)];
        nextDeviceId = add.deviceId + 1;
      }
      const gone = devices.filter((d) => write.remove.includes(d.deviceId)).map((d) => d.deviceId);
      devices = devices.filter((d) => !gone.includes(d.deviceId)).sort((a, b) => a.deviceId - b.deviceId);
      return { record: { nextDeviceId, devices, list: storedList(write.list) }, result: gone };
    });
    return removed ?? [];
  }

  async deviceList(account: string): Promise<StoredDeviceList | undefined> {
    const list = (await this.#read(account))?.list;
    return list === undefined ? undefined : toList(list);
  }

  async nextDeviceId(account: string): Promise<number | undefined> {
    return (await this.#read(account))?.nextDeviceId;
  }

  async list(account: string): Promise<DeviceRecord[]> {
    const record = await this.#read(account);
    return (record?.devices ?? []).map((stored) => toDevice(account, stored));
  }

  async get(account: string, deviceId: number): Promise<DeviceRecord | undefined> {
    const stored = (await this.#read(account))?.devices.find((d) => d.deviceId === deviceId);
    return stored === undefined ? undefined : toDevice(account, stored);
  }

  /** The account's device ids, ascending (none: no such account). */
  async deviceIds(account: string): Promise<number[]> {
    return ((await this.#read(account))?.devices ?? []).map((d) => d.deviceId);
  }

  #read(account: string): Promise<AccountRecord | undefined> {
    return this.#link.run(async ({ accounts }) => {
      const { value } = await readRevision(accounts, this.#key(account));
      return value === undefined ? undefined : decode(value);
    });
  }

  #change<T>(
    account: string,
    change: (record: AccountRecord | undefined) => { record: AccountRecord; result: T } | undefined,
  ): Promise<T | undefined> {
    return this.#link.run(({ accounts }: { accounts: KV }) =>
      compareAndSet(accounts, this.#key(account), (bytes) => {
        const next = change(bytes === undefined ? undefined : decode(bytes));
        return next === undefined ? undefined : { value: encode(next.record), result: next.result };
      }),
    );
  }

  #key(account: string): string {
    return this.#link.names.accountKey(account);
  }
}
