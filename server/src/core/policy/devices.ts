import { type DeviceList, deviceListSignedMessage, type SignedDeviceList } from '@pulse/proto';
import type { SignatureVerifier } from '../auth/verifier.ts';
import { equalBytes } from '../bytes.ts';
import { PulseError } from '../errors.ts';
import type { DeviceListWrite, DeviceRecord, StoredDeviceList } from '../store.ts';

/**
 * Device rules (PROTOCOL.md "Devices", "Linking"), decided on what was read.
 * The server checks signed device lists so that it stores only lists the
 * account's key signed, never an older one; clients check them again
 * themselves (they never trust the server for them).
 */

/** A device the pending link would add, as the link request gave it. */
export interface LinkedDevice {
  readonly deviceId: number;
  readonly deviceName: string;
  readonly identityKey: Uint8Array;
}

function signedBy(verify: SignatureVerifier, account: string, accountKey: Uint8Array, list: SignedDeviceList): boolean {
  let message: Uint8Array;
  try {
    const unsigned: DeviceList = { account, version: list.version, devices: list.devices };
    message = deviceListSignedMessage(unsigned);
  } catch {
    return false; // not canonical: nobody could have signed it
  }
  return verify(accountKey, message, list.signature);
}

const invalid = (why: string) => new PulseError('DEVICE_LIST_INVALID', why);

/**
 * `register`: the first list is version 1, holds exactly the registering
 * device (id 1, its key and name) and is signed by the account key.
 */
export function checkFirstList(
  verify: SignatureVerifier,
  account: string,
  device: { identityKey: Uint8Array; deviceName: string },
  accountKey: Uint8Array,
  list: SignedDeviceList,
): StoredDeviceList {
  const [only, ...more] = list.devices;
  if (list.version !== 1 || only === undefined || more.length > 0) {
    throw invalid('the first device list is version 1 with exactly one device');
  }
  if (only.deviceId !== 1 || !equalBytes(only.identityKey, device.identityKey) || only.name !== device.deviceName) {
    throw invalid('the first device list must hold the registering device as device 1');
  }
  if (!signedBy(verify, account, accountKey, list)) throw invalid('the device list is not signed by the account key');
  return { accountKey, ...list };
}

/**
 * `device_list_update`: signed by the stored account key, a version above the
 * stored one, every kept device with its stored identity key, and no new
 * device but the one of `link` (with the id it was proposed). Returns the
 * write: the list, the device added, the devices removed.
 */
export function checkListUpdate(
  verify: SignatureVerifier,
  account: string,
  stored: StoredDeviceList,
  devices: readonly DeviceRecord[],
  list: SignedDeviceList,
  link: LinkedDevice | undefined,
  maxDevices: number,
  now: number,
): DeviceListWrite {
  if (!signedBy(verify, account, stored.accountKey, list)) {
    throw invalid('the device list is not signed by the account key');
  }
  if (list.version <= stored.version) {
    throw new PulseError(
      'DEVICE_LIST_STALE',
      `version ${list.version} is not above the stored device list's version ${stored.version}`,
    );
  }
  if (list.devices.length > maxDevices) throw invalid(`an account has at most ${maxDevices} devices`);
  if (list.devices.some((d, i) => list.devices.some((e, j) => j > i && equalBytes(d.identityKey, e.identityKey)))) {
    throw invalid('two devices of the list share an identity key');
  }
  const current = new Map(devices.map((d) => [d.deviceId, d]));
  let add: DeviceListWrite['add'];
  for (const entry of list.devices) {
    const known = current.get(entry.deviceId);
    if (known !== undefined) {
      if (!equalBytes(known.identityKey, entry.identityKey)) throw invalid(`device ${entry.deviceId} changed its key`);
      continue;
    }
    if (link === undefined || link.deviceId !== entry.deviceId || !equalBytes(link.identityKey, entry.identityKey)) {
      throw invalid(`device ${entry.deviceId} is new, but no device asked to join with it (link)`);
    }
    add = { deviceId: entry.deviceId, name: link.deviceName, identityKey: link.identityKey, now };
  }
  if (link !== undefined && add === undefined) throw invalid('the list does not hold the device of the link');
  const kept = new Set(list.devices.map((d) => d.deviceId));
  const remove = devices.map((d) => d.deviceId).filter((deviceId) => !kept.has(deviceId));
  return { list: { accountKey: stored.accountKey, ...list }, expectedVersion: stored.version, add, remove };
}

/** The id a new device of the account is proposed: above every id used or proposed. */
export function proposeDeviceId(nextDeviceId: number, highestProposed: number): number {
  return Math.max(nextDeviceId, highestProposed + 1);
}
