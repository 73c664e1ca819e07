/**
 * The server's sealed-sender authority (PROTOCOL.md "Sealed sender"): it holds
 * the server key that signs sender certificates (edge/sealed-sender-keys.ts,
 * with @pulse/crypto's libsignal SenderCertificate), so the core never holds a
 * private key. The core decides who gets a certificate and for how long.
 */

/** What a sender certificate vouches for: this device of this account holds this identity key until `expiresAt`. */
export interface SenderCertificateFields {
  readonly account: string;
  readonly deviceId: number;
  /** The device's identity key as the store holds it (33 bytes). */
  readonly identityKey: Uint8Array;
  /** Last instant (ms) the certificate is valid at. */
  readonly expiresAt: number;
}

export interface SealedSenderAuthority {
  /** How long a sender certificate is valid (`sealed_sender.certificate_ttl`, ms). */
  readonly certificateTtlMs: number;
  /** libsignal's SenderCertificate bytes for `fields`, signed by the server key. */
  issueSenderCertificate(fields: SenderCertificateFields): Uint8Array;
  /**
   * What the store keeps of a delivery token: its SHA-256, so a copy of the
   * database does not hand out the tokens themselves.
   */
  deliveryTokenVerifier(token: Uint8Array): Uint8Array;
}
