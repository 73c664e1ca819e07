/**
 * The signed device list (PROTOCOL.md "Devices"): which devices belong to an
 * account, vouched for by the account's identity key. Servers store and serve
 * it and check it, but clients verify it themselves against the account key
 * they pinned, so a server can neither add a device nor roll the list back.
 *
 * The account key signs (XEdDSA) exactly these bytes:
 *
 *   "pulse/v2/device-list" || 0x00 || len(account) (1) || account (UTF-8) || version (4, BE)
 *   || count (2, BE) || for each device, ascending by id:
 *        deviceId (4, BE) || len(identityKey) (2, BE) || identityKey
 *        || len(name) (2, BE) || name (UTF-8) || addedAt (8, BE)
 *
 * Canonical: one encoding per list (devices sorted, ids unique), so equal lists
 * have equal signatures' messages and a device's fields cannot be shifted.
 */
export const DEVICE_LIST_CONTEXT = 'pulse/v2/device-list';

/** One device as the account vouches for it. */
export interface DeviceListEntry {
  deviceId: number;
  /** The device's own identity key (33 bytes): its sessions are built with it. */
  identityKey: Uint8Array;
  name: string;
  /** When the device was added (milliseconds since the Unix epoch, the signer's clock). */
  addedAt: number;
}

/** A device list as signed: `version` only grows (1 for the account's first list). */
export interface DeviceList {
  readonly account: string;
  readonly version: number;
  readonly devices: readonly DeviceListEntry[];
}

/** A device list with the account key's signature, as frames carry it (the account is the frame's). */
export interface SignedDeviceList {
  version: number;
  devices: DeviceListEntry[];
  signature: Uint8Array;
}

const encoder = new TextEncoder();

/** True when the ids ascend strictly (the canonical order, no duplicates). */
export function devicesAscend(devices: readonly { deviceId: number }[]): boolean {
  return devices.every((device, i) => i === 0 || device.deviceId > (devices[i - 1]?.deviceId ?? 0));
}

/** The bytes the account key signs for `list`. Throws RangeError for a list that is not canonical. */
export function deviceListSignedMessage(list: DeviceList): Uint8Array {
  if (!devicesAscend(list.devices)) throw new RangeError('device ids must ascend, without duplicates');
  if (list.devices.length > 0xffff) throw new RangeError('too many devices');
  if (!Number.isInteger(list.version) || list.version < 1 || list.version > 0xffff_ffff) {
    throw new RangeError('the version is 1 … 2^32 - 1');
  }
  const account = encoder.encode(list.account);
  if (account.length > 255) throw new RangeError('account name too long');
  const context = encoder.encode(DEVICE_LIST_CONTEXT);
  const parts: Uint8Array[] = [
    context,
    Uint8Array.of(0, account.length),
    account,
    u32(list.version),
    u16(list.devices.length),
  ];
  for (const device of list.devices) {
    const name = encoder.encode(device.name);
    if (device.identityKey.length > 0xffff || name.length > 0xffff) throw new RangeError('device field too long');
    parts.push(u32(device.deviceId), u16(device.identityKey.length), device.identityKey, u16(name.length), name);
    parts.push(u64(device.addedAt));
  }
  return concat(parts);
}

function u16(n: number): Uint8Array {
  return Uint8Array.of(n >>> 8, n & 0xff);
}

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

function u64(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('addedAt is a timestamp');
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, Math.floor(n / 2 ** 32));
  view.setUint32(4, n >>> 0);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
