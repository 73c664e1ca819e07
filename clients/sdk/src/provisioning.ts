import type { StoredDeviceList } from './device-lists.ts';
import { PulseError } from './errors.ts';
import type { ContactRecord, GroupRecord } from './profile.ts';

/**
 * The provisioning message (README "Linking"): what the approving device sends
 * the new one, encrypted end to end as a PQXDH initial message to the prekeys
 * of the link request (so neither the server nor anyone without the new
 * device's keys can read it), as UTF-8 JSON.
 */
export interface Provisioning {
  readonly account: string;
  readonly deviceId: number;
  /** The account identity key pair (base64 of its serialization): the new device signs lists with it too. */
  readonly accountIdentity: string;
  /** The signed list that adds the new device. */
  readonly deviceList: StoredDeviceList;
  /** base64 HMAC under the link code (link-code.ts `approvalMac`): the sender knows the code. */
  readonly approval: string;
  /** What the approving device knows, so the new one starts with it: pinned contacts, groups. */
  readonly contacts: Record<string, ContactRecord>;
  readonly groups: Record<string, GroupRecord>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeProvisioning(provisioning: Provisioning): Uint8Array {
  return encoder.encode(JSON.stringify({ t: 'provision', v: 1, ...provisioning }));
}

/** Parses and checks the shape; the caller checks the meaning (signatures, MAC, ids). */
export function decodeProvisioning(bytes: Uint8Array): Provisioning {
  const bad = (what: string) => new PulseError('BAD_INPUT', `the provisioning message has a bad ${what}`);
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(decoder.decode(bytes)) as Record<string, unknown>;
  } catch {
    throw bad('encoding');
  }
  if (typeof value !== 'object' || value === null || value.t !== 'provision' || value.v !== 1) throw bad('kind');
  const { account, deviceId, accountIdentity, deviceList, approval, contacts, groups } = value;
  if (typeof account !== 'string') throw bad('account');
  if (typeof deviceId !== 'number' || !Number.isSafeInteger(deviceId) || deviceId < 1) throw bad('deviceId');
  if (typeof accountIdentity !== 'string' || typeof approval !== 'string') throw bad('key');
  if (!isStoredList(deviceList)) throw bad('device list');
  if (!isRecord(contacts) || !isRecord(groups)) throw bad('contacts or groups');
  return {
    account,
    deviceId,
    accountIdentity,
    deviceList,
    approval,
    contacts: contacts as Record<string, ContactRecord>,
    groups: groups as Record<string, GroupRecord>,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStoredList(value: unknown): value is StoredDeviceList {
  if (!isRecord(value) || typeof value.version !== 'number' || typeof value.signature !== 'string') return false;
  return (
    Array.isArray(value.devices) &&
    value.devices.every(
      (d: unknown) =>
        isRecord(d) &&
        typeof d.deviceId === 'number' &&
        typeof d.identityKey === 'string' &&
        typeof d.name === 'string' &&
        typeof d.addedAt === 'number',
    )
  );
}
