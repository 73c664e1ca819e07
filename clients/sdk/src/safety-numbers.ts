import { safetyNumber } from '@pulse/crypto';
import { fromBase64 } from './base64.ts';
import type { DeviceAddress } from './e2e/engine.ts';
import { PulseError } from './errors.ts';
import type { Lock } from './lock.ts';
import type { TrustBook } from './trust.ts';

export interface SafetyNumber {
  readonly account: string;
  /**
   * 60 digits in groups of five: libsignal's displayable fingerprint over both
   * accounts' names and ACCOUNT identity keys. One per contact, whatever its devices.
   */
  readonly number: string;
  readonly verified: boolean;
  /** The contact's account identity key changed since it was pinned; sending is stopped until accepted. */
  readonly identityChanged: boolean;
  /**
   * The same number as a one-entry list (device 0 stands for the account), for
   * clients written when every device had its own number.
   */
  readonly numbers: readonly { deviceId: number; number: string }[];
  /** `[0]` when the identity changed, else empty (as `numbers`, for older callers). */
  readonly changedDevices: readonly number[];
}

export interface SafetyNumbersDeps {
  readonly trust: TrustBook;
  readonly lock: Lock;
  /** This account; NOT_REGISTERED before registration. */
  readonly account: () => string;
  /** This account's identity public key. */
  readonly accountKey: () => Uint8Array;
  /** Fetches and judges `account`'s signed device list (pins its account key on first use). */
  readonly fetchList: (account: string) => Promise<void>;
  readonly dropSession: (address: DeviceAddress) => void;
  readonly persist: () => Promise<void>;
}

const encoder = new TextEncoder();

/**
 * Safety numbers, one per contact over the two ACCOUNT identity keys (README
 * "Trust"), so a new device of a contact never changes it; a new account
 * identity does. Accepting (after comparing) marks the contact verified and
 * lifts IDENTITY_CHANGED.
 */
export class SafetyNumbers {
  readonly #deps: SafetyNumbersDeps;

  constructor(deps: SafetyNumbersDeps) {
    this.#deps = deps;
  }

  /** The safety number with `account` (fetching its device list when none is pinned yet). */
  async of(account: string): Promise<SafetyNumber> {
    const { trust, lock } = this.#deps;
    return lock.run(async () => {
      const me = this.#deps.account();
      if (trust.accountKey(account) === undefined) {
        await this.#deps.fetchList(account).catch((error: unknown) => {
          if (PulseError.is(error, 'NOT_FOUND')) throw new PulseError('UNKNOWN_CONTACT', `no account ${account}`);
          if (!PulseError.is(error, 'IDENTITY_CHANGED')) throw error;
        });
      }
      const contact = trust.get(account);
      const theirs = contact?.changedAccountKey ?? contact?.accountKey;
      if (contact === undefined || theirs === undefined)
        throw new PulseError('UNKNOWN_CONTACT', `no account ${account}`);
      const digits = safetyNumber(
        { identifier: encoder.encode(me), identityKey: this.#deps.accountKey() },
        { identifier: encoder.encode(account), identityKey: fromBase64(theirs) },
      );
      const number = digits.match(/\d{5}/g)?.join(' ') ?? digits;
      const identityChanged = contact.changedAccountKey !== undefined || Object.keys(contact.changed).length > 0;
      return {
        account,
        number,
        verified: contact.verified,
        identityChanged,
        numbers: [{ deviceId: 0, number }],
        changedDevices: identityChanged ? [0] : [],
      };
    });
  }

  /** The user compared safety numbers: accept the current identity (a changed one included) and mark verified. */
  async markVerified(account: string): Promise<void> {
    const { trust, lock, persist } = this.#deps;
    return lock.run(async () => {
      // Sessions built under the replaced identity are dropped; the next send builds fresh ones.
      for (const deviceId of trust.accept(account)) this.#deps.dropSession({ account, deviceId });
      await persist();
    });
  }
}
