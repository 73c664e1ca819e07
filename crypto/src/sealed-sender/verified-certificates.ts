/**
 * Sender certificates whose two signatures (trust root → server certificate,
 * server key → sender certificate) already verified, so a contact's next
 * sealed message costs no XEdDSA verification: a device gets one certificate
 * a day and seals every message with it, and two verifications are most of
 * what opening a small sealed message costs. Only the signatures are
 * remembered: expiry and revocation are checked for every message, as
 * libsignal's SenderCertificate::validate does.
 *
 * A certificate is remembered by its exact bytes together with the trust roots
 * it verified under; the set is bounded (oldest forgotten first).
 */
import { toHex } from '../bytes.ts';

/** Certificates remembered at most, by default. */
export const DEFAULT_VERIFIED_CERTIFICATES = 256;

export class VerifiedCertificates {
  readonly #max: number;
  readonly #keys = new Set<string>();

  constructor(max = DEFAULT_VERIFIED_CERTIFICATES) {
    this.#max = Math.max(1, max);
  }

  get size(): number {
    return this.#keys.size;
  }

  has(certificate: Uint8Array, trustRoots: readonly Uint8Array[]): boolean {
    return this.#keys.has(VerifiedCertificates.#key(certificate, trustRoots));
  }

  add(certificate: Uint8Array, trustRoots: readonly Uint8Array[]): void {
    const key = VerifiedCertificates.#key(certificate, trustRoots);
    this.#keys.delete(key);
    this.#keys.add(key);
    if (this.#keys.size > this.#max) {
      const oldest = this.#keys.values().next().value;
      if (oldest !== undefined) this.#keys.delete(oldest);
    }
  }

  static #key(certificate: Uint8Array, trustRoots: readonly Uint8Array[]): string {
    return `${trustRoots.map(toHex).join(',')}/${toHex(certificate)}`;
  }
}
