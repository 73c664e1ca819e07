import type { SignedDeviceList } from '@pulse/proto';
import { toBase64 } from './base64.ts';
import { advanceList, type ListedDevice, listedKey, listSignedBy } from './device-lists.ts';
import { PulseError } from './errors.ts';
import type { ContactRecord } from './profile.ts';

/** What the TrustBook tells the client about (events.ts). */
export interface TrustEvents {
  identityChanged(account: string): void;
  deviceAdded(account: string, device: ListedDevice): void;
  deviceRemoved(account: string, device: ListedDevice): void;
  listRefused(account: string, error: PulseError): void;
}

/** The devices of an account as its accepted list gives them, and which sessions went stale. */
export interface AcceptedDevices {
  readonly devices: readonly number[];
  /** Devices removed or re-keyed since the last list: their sessions must be dropped. */
  readonly stale: readonly number[];
}

/**
 * Trust on first use, per account (README "Trust"): the first account identity
 * key seen for a contact is pinned; after that only device lists that key
 * signed count, never older than the highest version seen. A different account
 * key is flagged (never silently accepted) until the user compares safety
 * numbers and accepts it. Owns the profile's `contacts`.
 */
export class TrustBook {
  readonly #contacts: Record<string, ContactRecord>;
  readonly #events: TrustEvents;

  constructor(contacts: Record<string, ContactRecord>, events: TrustEvents) {
    this.#contacts = contacts;
    this.#events = events;
  }

  get(account: string): ContactRecord | undefined {
    return this.#contacts[account];
  }

  accounts(): string[] {
    return Object.keys(this.#contacts);
  }

  /** The devices of `account` in its accepted signed list. */
  knownDevices(account: string): number[] {
    return Object.keys(this.#contacts[account]?.devices ?? {}).map(Number);
  }

  /** The account identity key the user trusts for `account` (pinned or accepted). */
  accountKey(account: string): string | undefined {
    return this.#contacts[account]?.accountKey;
  }

  /** True when `identityKey` is the key `account`'s accepted signed list gives `deviceId`. */
  isListed(account: string, deviceId: number, identityKey: Uint8Array): boolean {
    const contact = this.#contacts[account];
    if (contact?.deviceList === undefined) return false;
    return listedKey(contact.deviceList, deviceId) === toBase64(identityKey);
  }

  /** Throws IDENTITY_CHANGED while `account` presents an identity the user has not accepted. */
  requireUnchanged(account: string): void {
    const contact = this.#contacts[account];
    if (contact?.changedAccountKey !== undefined || Object.keys(contact?.changed ?? {}).length > 0) {
      throw new PulseError(
        'IDENTITY_CHANGED',
        `the identity key of ${account} changed: compare safety numbers (verify ${account}) before sending`,
      );
    }
  }

  /**
   * Judges the device list the server presented for `account` with its account
   * key: refused (DEVICE_LIST_INVALID, DEVICE_LIST_ROLLBACK) unless the pinned
   * key signed it and it is not older than what was seen; IDENTITY_CHANGED when
   * another account key signed it. Returns the accepted devices.
   */
  present(account: string, accountKey: Uint8Array, signed: SignedDeviceList): AcceptedDevices {
    try {
      return this.#present(account, accountKey, signed);
    } catch (error) {
      if (PulseError.is(error) && error.code !== 'IDENTITY_CHANGED') this.#events.listRefused(account, error);
      throw error;
    }
  }

  #present(account: string, accountKey: Uint8Array, signed: SignedDeviceList): AcceptedDevices {
    if (!listSignedBy(account, accountKey, signed)) {
      throw new PulseError('DEVICE_LIST_INVALID', `${account}'s device list is not signed by its account key: refused`);
    }
    const contact = this.#contact(account);
    const presentedKey = toBase64(accountKey);
    if (contact.accountKey === undefined) {
      // First use: pin this identity. (A profile from before account keys pins it too.)
      contact.accountKey = presentedKey;
    } else if (contact.accountKey !== presentedKey) {
      if (contact.changedAccountKey !== presentedKey) {
        contact.changedAccountKey = presentedKey;
        contact.changedDeviceList = undefined;
        contact.verified = false;
        this.#events.identityChanged(account);
      }
      const candidate = advanceList(account, contact.changedDeviceList, signed);
      contact.changedDeviceList = candidate.list;
      this.requireUnchanged(account);
    }
    const change = advanceList(account, contact.deviceList, signed);
    contact.deviceList = change.list;
    contact.devices = Object.fromEntries(change.list.devices.map((d) => [String(d.deviceId), d.identityKey]));
    for (const device of change.added) this.#events.deviceAdded(account, device);
    for (const device of change.removed) this.#events.deviceRemoved(account, device);
    return {
      devices: change.list.devices.map((d) => d.deviceId),
      stale: [...change.removed.map((d) => d.deviceId), ...change.rekeyed],
    };
  }

  /**
   * The user verified `account`: a changed account identity becomes the trusted
   * one (its list replaces the old, whatever the versions: a new identity starts
   * its own history). Returns the devices whose sessions are stale.
   */
  accept(account: string): number[] {
    const contact = this.#contacts[account];
    if (contact === undefined) throw new PulseError('UNKNOWN_CONTACT', `no contact ${account}`);
    let stale: number[];
    if (contact.changedAccountKey !== undefined) {
      stale = this.knownDevices(account);
      contact.accountKey = contact.changedAccountKey;
      contact.deviceList = contact.changedDeviceList;
      contact.devices = Object.fromEntries(
        (contact.deviceList?.devices ?? []).map((d) => [String(d.deviceId), d.identityKey]),
      );
      delete contact.changedAccountKey;
      delete contact.changedDeviceList;
    } else {
      // A profile from before account keys: a device's changed key becomes the recorded one.
      stale = Object.keys(contact.changed).map(Number);
      for (const [deviceId, key] of Object.entries(contact.changed)) contact.devices[deviceId] = key;
    }
    contact.changed = {};
    contact.verified = true;
    return stale;
  }

  /** What a newly linked device of this account should start with (the provisioning message carries it). */
  snapshot(): Record<string, ContactRecord> {
    return structuredClone(this.#contacts);
  }

  /** A newly linked device starts with what the approving device knew (filled in place). */
  adopt(contacts: Record<string, ContactRecord>): void {
    Object.assign(this.#contacts, structuredClone(contacts));
  }

  #contact(account: string): ContactRecord {
    let contact = this.#contacts[account];
    if (contact === undefined) {
      contact = { devices: {}, verified: false, changed: {} };
      this.#contacts[account] = contact;
    }
    return contact;
  }
}
