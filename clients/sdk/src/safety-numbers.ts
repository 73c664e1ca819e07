import { fromBase64 } from './base64.ts';
import type { E2EEngine } from './e2e/engine.ts';
import { PulseError } from './errors.ts';
import type { Lock } from './lock.ts';
import type { Outbox } from './outbox.ts';
import type { TrustBook } from './trust.ts';

export interface SafetyNumber {
  readonly account: string;
  /** 60 digits in groups of five (libsignal's displayable fingerprint), one per device. */
  readonly numbers: readonly { deviceId: number; number: string }[];
  readonly verified: boolean;
  /** Devices whose identity key changed since it was first seen. */
  readonly changedDevices: readonly number[];
}

export interface SafetyNumbersDeps {
  readonly engine: E2EEngine;
  readonly trust: TrustBook;
  readonly outbox: Outbox;
  readonly lock: Lock;
  /** This account; NOT_REGISTERED before registration. */
  readonly account: () => string;
  readonly persist: () => Promise<void>;
}

/**
 * Safety numbers (libsignal's fingerprint over both accounts' names and identity
 * keys, one per contact device) and the user's verdict after comparing them:
 * accepting a contact's current keys marks it verified and lifts IDENTITY_CHANGED.
 */
export class SafetyNumbers {
  readonly #deps: SafetyNumbersDeps;

  constructor(deps: SafetyNumbersDeps) {
    this.#deps = deps;
  }

  /** Safety numbers for `account` (fetching its keys when the profile has none yet). */
  async of(account: string): Promise<SafetyNumber> {
    const { engine, trust, outbox, lock } = this.#deps;
    return lock.run(async () => {
      const me = this.#deps.account();
      if (trust.knownDevices(account).length === 0) {
        await outbox.fetchBundles(account).catch((error: unknown) => {
          if (!PulseError.is(error, 'IDENTITY_CHANGED')) throw error;
        });
      }
      const contact = trust.get(account);
      if (contact === undefined) throw new PulseError('UNKNOWN_CONTACT', `no account ${account}`);
      const numbers = [];
      for (const [deviceId, key] of Object.entries(contact.devices)) {
        const current = contact.changed[deviceId] ?? key;
        numbers.push({
          deviceId: Number(deviceId),
          number: await engine.safetyNumber(me, account, fromBase64(current)),
        });
      }
      return {
        account,
        numbers,
        verified: contact.verified,
        changedDevices: Object.keys(contact.changed).map(Number),
      };
    });
  }

  /** The user compared safety numbers: accept the current keys (including changed ones) and mark verified. */
  async markVerified(account: string): Promise<void> {
    const { engine, trust, lock, persist } = this.#deps;
    return lock.run(async () => {
      // Sessions built with a key that has now been replaced are dropped; the next send builds fresh ones.
      for (const deviceId of trust.accept(account)) engine.dropSession({ account, deviceId });
      await persist();
    });
  }
}
