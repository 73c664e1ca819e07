import { toBase64 } from './base64.ts';
import { PulseError } from './errors.ts';
import type { ContactRecord } from './profile.ts';

/**
 * Trust on first use, per device: the first identity key seen for a contact's
 * device is recorded; a different one later is flagged (never silently
 * accepted) until the user compares safety numbers and accepts it. Owns the
 * profile's `contacts`.
 */
export class TrustBook {
  readonly #contacts: Record<string, ContactRecord>;
  readonly #onChanged: (account: string, deviceId: number) => void;

  constructor(contacts: Record<string, ContactRecord>, onChanged: (account: string, deviceId: number) => void) {
    this.#contacts = contacts;
    this.#onChanged = onChanged;
  }

  get(account: string): ContactRecord | undefined {
    return this.#contacts[account];
  }

  accounts(): string[] {
    return Object.keys(this.#contacts);
  }

  knownDevices(account: string): number[] {
    return Object.keys(this.#contacts[account]?.devices ?? {}).map(Number);
  }

  /** Throws IDENTITY_CHANGED while a device of `account` presents a key the user has not accepted. */
  requireUnchanged(account: string): void {
    const changed = Object.keys(this.#contacts[account]?.changed ?? {});
    if (changed.length > 0) {
      throw new PulseError(
        'IDENTITY_CHANGED',
        `the identity key of ${account} (device ${changed.join(', ')}) changed: compare safety numbers (verify ${account}) before sending`,
      );
    }
  }

  /** Records the key a device presents; false (and the change flagged) when it differs from the recorded one. */
  observe(account: string, deviceId: number, identityKey: Uint8Array): boolean {
    const contact = this.#contact(account);
    const presented = toBase64(identityKey);
    const known = contact.devices[String(deviceId)];
    if (known === undefined) {
      contact.devices[String(deviceId)] = presented;
      return true;
    }
    if (known === presented) return true;
    if (contact.changed[String(deviceId)] !== presented) {
      contact.changed[String(deviceId)] = presented;
      contact.verified = false;
      this.#onChanged(account, deviceId);
    }
    return false;
  }

  /** A device that no longer exists. */
  forget(account: string, deviceId: number): void {
    const contact = this.#contacts[account];
    if (contact === undefined) return;
    delete contact.devices[String(deviceId)];
    delete contact.changed[String(deviceId)];
  }

  /** The user verified `account`: changed keys become the recorded ones. Returns the devices whose key changed. */
  accept(account: string): number[] {
    const contact = this.#contacts[account];
    if (contact === undefined) throw new PulseError('UNKNOWN_CONTACT', `no contact ${account}`);
    const replaced = Object.keys(contact.changed).map(Number);
    for (const [deviceId, key] of Object.entries(contact.changed)) contact.devices[deviceId] = key;
    contact.changed = {};
    contact.verified = true;
    return replaced;
  }

  /** A newly linked device of this account starts with what `existing` knows (filled in place). */
  adopt(existing: TrustBook): void {
    Object.assign(this.#contacts, structuredClone(existing.#contacts));
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
