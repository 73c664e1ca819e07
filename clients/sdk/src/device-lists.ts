import { type IdentityKeyPair, xeddsaVerify } from '@pulse/crypto';
import { type DeviceListEntry, deviceListSignedMessage, type SignedDeviceList } from '@pulse/proto';
import { fromBase64, toBase64 } from './base64.ts';
import { PulseError } from './errors.ts';

/**
 * Signed device lists (PROTOCOL.md "Devices"), as the client judges them: a
 * list counts only when the account key it pinned signed it, and only if its
 * version is not below the highest this profile has seen for that account. The
 * server's word is never enough. Pure: no I/O, no state; the owners (TrustBook
 * for contacts, Accounts for this account) keep the lists.
 */

/** A verified list as the profile stores it (keys and signature in base64). */
export interface StoredDeviceList {
  readonly version: number;
  readonly devices: readonly StoredDeviceEntry[];
  readonly signature: string;
}

export interface StoredDeviceEntry {
  readonly deviceId: number;
  readonly identityKey: string;
  readonly name: string;
  readonly addedAt: number;
}

/** A device as events and callers see it. */
export interface ListedDevice {
  readonly deviceId: number;
  readonly name: string;
  readonly addedAt: number;
}

/** What changed from one accepted list to the next. */
export interface ListChange {
  readonly list: StoredDeviceList;
  /** False the first time a list is seen for the account (nothing to compare with). */
  readonly hadList: boolean;
  readonly added: readonly ListedDevice[];
  readonly removed: readonly ListedDevice[];
  /** Devices whose identity key differs from the previous list's (sessions with them are stale). */
  readonly rekeyed: readonly number[];
}

export function toStored(signed: SignedDeviceList): StoredDeviceList {
  return {
    version: signed.version,
    devices: signed.devices.map((d) => ({
      deviceId: d.deviceId,
      identityKey: toBase64(d.identityKey),
      name: d.name,
      addedAt: d.addedAt,
    })),
    signature: toBase64(signed.signature),
  };
}

export function toWire(stored: StoredDeviceList): SignedDeviceList {
  return {
    version: stored.version,
    devices: stored.devices.map((d) => ({ ...d, identityKey: fromBase64(d.identityKey) })),
    signature: fromBase64(stored.signature),
  };
}

/** Signs `devices` (sorted here) as `account`'s list `version` with the account identity key. */
export function signDeviceList(
  account: string,
  version: number,
  devices: readonly DeviceListEntry[],
  accountIdentity: IdentityKeyPair,
): SignedDeviceList {
  const sorted = [...devices].sort((a, b) => a.deviceId - b.deviceId);
  const signature = accountIdentity.sign(deviceListSignedMessage({ account, version, devices: sorted }));
  return { version, devices: sorted, signature };
}

/** True when `accountKey` signed `signed` as `account`'s list. Never throws. */
export function listSignedBy(account: string, accountKey: Uint8Array, signed: SignedDeviceList): boolean {
  try {
    const message = deviceListSignedMessage({ account, version: signed.version, devices: signed.devices });
    return xeddsaVerify(accountKey, message, signed.signature);
  } catch {
    return false; // not canonical: nobody signed that
  }
}

/**
 * Accepts `presented` (already checked to be signed by the pinned account key)
 * after `current`, the highest list seen so far: an older version is a rollback
 * and the same version with other contents is equivocation; both are refused.
 */
export function advanceList(
  account: string,
  current: StoredDeviceList | undefined,
  presented: SignedDeviceList,
): ListChange {
  const list = toStored(presented);
  if (current === undefined) return { list, hadList: false, added: [], removed: [], rekeyed: [] };
  if (list.version < current.version) {
    throw new PulseError(
      'DEVICE_LIST_ROLLBACK',
      `the server gave version ${list.version} of ${account}'s device list, older than version ${current.version} already seen: refused`,
    );
  }
  if (list.version === current.version) {
    if (!sameList(list, current)) {
      throw new PulseError(
        'DEVICE_LIST_INVALID',
        `two different device lists of ${account} carry version ${list.version}: refused`,
      );
    }
    return { list: current, hadList: true, added: [], removed: [], rekeyed: [] };
  }
  const before = new Map(current.devices.map((d) => [d.deviceId, d]));
  const after = new Map(list.devices.map((d) => [d.deviceId, d]));
  return {
    list,
    hadList: true,
    added: list.devices.filter((d) => !before.has(d.deviceId)).map(listed),
    removed: current.devices.filter((d) => !after.has(d.deviceId)).map(listed),
    rekeyed: list.devices
      .filter((d) => before.has(d.deviceId) && before.get(d.deviceId)?.identityKey !== d.identityKey)
      .map((d) => d.deviceId),
  };
}

/** The identity key `list` gives `deviceId`, if it lists it. */
export function listedKey(list: StoredDeviceList | undefined, deviceId: number): string | undefined {
  return list?.devices.find((d) => d.deviceId === deviceId)?.identityKey;
}

export function listed(entry: StoredDeviceEntry): ListedDevice {
  return { deviceId: entry.deviceId, name: entry.name, addedAt: entry.addedAt };
}

function sameList(a: StoredDeviceList, b: StoredDeviceList): boolean {
  return (
    a.devices.length === b.devices.length &&
    a.devices.every((d, i) => {
      const e = b.devices[i];
      return (
        e !== undefined &&
        d.deviceId === e.deviceId &&
        d.identityKey === e.identityKey &&
        d.name === e.name &&
        d.addedAt === e.addedAt
      );
    })
  );
}
