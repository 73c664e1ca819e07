import { IdentityKeyPair } from '@pulse/crypto';
import type { DeviceListEntry, FrameOf, SignedDeviceList } from '@pulse/proto';
import { fromBase64, toBase64 } from './base64.ts';
import type { PulseConnection } from './connection/connection.ts';
import type { HandshakeSession } from './connection/handshake.ts';
import {
  advanceList,
  listedKey,
  listSignedBy,
  type StoredDeviceList,
  signDeviceList,
  toStored,
  toWire,
} from './device-lists.ts';
import type { DeviceAddress } from './e2e/engine.ts';
import { PulseError } from './errors.ts';
import type { Emit } from './events.ts';
import type { AccountRecord } from './profile.ts';
import type { AcceptedDevices } from './trust.ts';

export interface DeviceInfo {
  readonly deviceId: number;
  readonly name: string;
  /** When the device was added, as its signed list says. */
  readonly createdAt: number;
  readonly lastSeenAt: number;
  readonly current: boolean;
}

export interface OwnDevicesDeps {
  /** The account record: `account`, `deviceId`, and (owned here) `accountIdentity` and `deviceList`. */
  readonly record: AccountRecord;
  readonly connection: PulseConnection;
  readonly emit: Emit;
  /** Sessions with devices that left the list (or changed key) are dropped. */
  readonly dropSession: (address: DeviceAddress) => void;
}

/**
 * This account's identity key pair and its own signed device list (PROTOCOL.md
 * "Devices"): the highest version seen, accepted only when this account's key
 * signed it, so the server can neither add a device nor bring a removed one
 * back. Signs the next list when a device is added or removed. Owns the
 * record's `accountIdentity` and `deviceList`.
 */
export class OwnDevices {
  readonly #deps: OwnDevicesDeps;
  readonly #record: AccountRecord;

  constructor(deps: OwnDevicesDeps) {
    this.#deps = deps;
    this.#record = deps.record;
  }

  /** The devices of the accepted list. */
  get ids(): number[] {
    return (this.#record.deviceList?.devices ?? []).map((d) => d.deviceId);
  }

  /** The account identity public key (undefined before registration or linking). */
  get accountKey(): Uint8Array | undefined {
    const serialized = this.#record.accountIdentity;
    return serialized === undefined ? undefined : IdentityKeyPair.deserialize(fromBase64(serialized)).publicKey;
  }

  /** The identity key the accepted list gives one of this account's devices. */
  keyOf(deviceId: number): string | undefined {
    return listedKey(this.#record.deviceList, deviceId);
  }

  /** The account identity (its serialization) and its list, made at registration or received when linked. */
  adopt(accountIdentity: IdentityKeyPair, list: SignedDeviceList): void {
    this.#record.accountIdentity = toBase64(accountIdentity.serialize());
    this.#record.deviceList = toStored(list);
  }

  /** The account identity key pair, serialized, for a device this one approves. */
  get serializedIdentity(): string {
    return this.#requireIdentityText();
  }

  /** The list after the current one, holding `devices`, signed by the account key. */
  signNext(change: (devices: DeviceListEntry[]) => DeviceListEntry[]): SignedDeviceList {
    const current = this.current();
    const devices = change(toWire(current).devices);
    return signDeviceList(this.#account(), current.version + 1, devices, this.identity());
  }

  current(): StoredDeviceList {
    const list = this.#record.deviceList;
    if (list === undefined) throw new PulseError('NOT_REGISTERED', 'this profile holds no device list');
    return list;
  }

  identity(): IdentityKeyPair {
    return IdentityKeyPair.deserialize(fromBase64(this.#requireIdentityText()));
  }

  /** Fetches the list from the server and judges it; returns the answer (it says when devices were last seen). */
  async refresh(session?: HandshakeSession): Promise<FrameOf<'devices'>> {
    const answer =
      session === undefined
        ? await this.#deps.connection.request({ type: 'device_list' })
        : await session.request({ type: 'device_list' });
    this.present(answer.accountKey, answer.deviceList);
    return answer;
  }

  /** The devices of the accepted list, with when the server last saw each. */
  info(answer: FrameOf<'devices'>): DeviceInfo[] {
    const lastSeen = new Map((answer.lastSeen ?? []).map((d) => [d.deviceId, d.lastSeenAt]));
    return this.current().devices.map((d) => ({
      deviceId: d.deviceId,
      name: d.name,
      createdAt: d.addedAt,
      lastSeenAt: lastSeen.get(d.deviceId) ?? 0,
      current: d.deviceId === this.#record.deviceId,
    }));
  }

  /**
   * Judges a list the server presented for this account: signed by this
   * account's own key and not older than the highest version seen, else refused
   * (DEVICE_LIST_INVALID, DEVICE_LIST_ROLLBACK, and the `device_list_refused` event).
   */
  present(accountKey: Uint8Array, signed: SignedDeviceList): AcceptedDevices {
    const account = this.#account();
    const ownKey = this.accountKey;
    const refused = (error: PulseError) => {
      this.#deps.emit('device_list_refused', { account, code: error.code, reason: error.message });
      return error;
    };
    if (ownKey === undefined || toBase64(ownKey) !== toBase64(accountKey) || !listSignedBy(account, ownKey, signed)) {
      const why = `the server's list of ${account}'s devices is not signed by this account: refused`;
      throw refused(new PulseError('DEVICE_LIST_INVALID', why));
    }
    try {
      return this.accept(signed);
    } catch (error) {
      throw PulseError.is(error) ? refused(error) : error;
    }
  }

  /** A list this device signed (or checked): becomes the current one; sessions with devices that left are dropped. */
  accept(signed: SignedDeviceList): AcceptedDevices {
    const account = this.#account();
    const change = advanceList(account, this.#record.deviceList, signed);
    this.#record.deviceList = change.list;
    const stale = [...change.removed.map((d) => d.deviceId), ...change.rekeyed];
    for (const deviceId of stale) this.#deps.dropSession({ account, deviceId });
    for (const device of change.added) this.#deps.emit('device_added', { account, own: true, ...device });
    for (const device of change.removed) this.#deps.emit('device_removed', { account, own: true, ...device });
    return { devices: change.list.devices.map((d) => d.deviceId), stale };
  }

  /** Removes a device: a new signed list without it. */
  async remove(deviceId: number): Promise<void> {
    await this.refresh();
    const current = this.current();
    if (!current.devices.some((d) => d.deviceId === deviceId)) {
      throw new PulseError('NOT_FOUND', `no device ${deviceId} in ${this.#account()}'s device list`);
    }
    if (current.devices.length === 1) {
      throw new PulseError('BAD_INPUT', 'the last device of an account cannot be removed');
    }
    const signed = this.signNext((devices) => devices.filter((d) => d.deviceId !== deviceId));
    await this.#deps.connection.request({ type: 'device_list_update', deviceList: signed });
    this.accept(signed);
  }

  #account(): string {
    const account = this.#record.account;
    if (account === undefined) throw new PulseError('NOT_REGISTERED', 'this profile has no account: register first');
    return account;
  }

  #requireIdentityText(): string {
    const serialized = this.#record.accountIdentity;
    if (serialized === undefined) {
      throw new PulseError('NOT_REGISTERED', 'this profile holds no account identity (registered before account keys)');
    }
    return serialized;
  }
}
