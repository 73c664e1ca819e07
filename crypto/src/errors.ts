/**
 * Every failure crypto/ reports is a CryptoError with a stable `code`, so callers
 * branch on the code and never on message text (libsignal node/ts/Errors.ts does the same).
 */
export const CryptoErrorCode = {
  /** A key's bytes have the wrong length, type prefix, or are not a valid curve point. */
  InvalidKey: 'CRYPTO_INVALID_KEY',
  /** A Diffie-Hellman input is a low-order point or the agreement produced all zeros. */
  LowOrderPoint: 'CRYPTO_LOW_ORDER_POINT',
  /** A signature did not verify (prekey bundle, sender-key message). */
  BadSignature: 'CRYPTO_BAD_SIGNATURE',
  /** A prekey bundle lacks a post-quantum prekey and classical X3DH was not allowed. */
  MissingPqPrekey: 'CRYPTO_MISSING_PQ_PREKEY',
  /** A message or serialized state could not be parsed (truncated, oversized, unknown version). */
  MalformedMessage: 'CRYPTO_MALFORMED_MESSAGE',
  /** Authenticated decryption failed: the ciphertext, header or associated data was changed. */
  DecryptFailed: 'CRYPTO_DECRYPT_FAILED',
  /** The message was already decrypted once (replay or duplicate delivery). */
  DuplicateMessage: 'CRYPTO_DUPLICATE_MESSAGE',
  /** The message would require skipping more keys than MAX_SKIP allows. */
  TooManySkipped: 'CRYPTO_TOO_MANY_SKIPPED',
  /** A serialized state or message names a version this code does not know. */
  UnsupportedVersion: 'CRYPTO_UNSUPPORTED_VERSION',
  /** A prekey referenced by an initial message is unknown or was already used. */
  UnknownPrekey: 'CRYPTO_UNKNOWN_PREKEY',
  /** The session cannot perform the operation in its current state. */
  InvalidState: 'CRYPTO_INVALID_STATE',
  /** A caller-supplied argument is out of range (sizes, counts). */
  InvalidArgument: 'CRYPTO_INVALID_ARGUMENT',
  /** A group message names a sender-key chain this record does not hold (not distributed, or rotated away). */
  UnknownSenderKey: 'CRYPTO_UNKNOWN_SENDER_KEY',
  /** The caller's identity-trust check refused the peer's identity key (libsignal UntrustedIdentity). */
  UntrustedIdentity: 'CRYPTO_UNTRUSTED_IDENTITY',
  /** A message would cost more work before its MAC is checked than the per-message limits allow. */
  WorkLimit: 'CRYPTO_WORK_LIMIT',
  /**
   * A sender certificate does not chain to a pinned trust root: the server certificate's or the
   * sender certificate's XEdDSA signature did not verify, or the server key id is revoked.
   */
  UntrustedCertificate: 'CRYPTO_UNTRUSTED_CERTIFICATE',
  /** A sender certificate's expiration is before the time it was checked at. */
  CertificateExpired: 'CRYPTO_CERTIFICATE_EXPIRED',
  /**
   * A sealed message's sender does not match: the certificate names another identity key than
   * the one that sealed it, or the caller's check refused the sender for the session it belongs to.
   */
  SenderMismatch: 'CRYPTO_SENDER_MISMATCH',
  /** A sealed message names the recipient's own account and device as its sender (libsignal SealedSenderSelfSend). */
  SealedSenderSelfSend: 'CRYPTO_SEALED_SENDER_SELF_SEND',
} as const;

export type CryptoErrorCode = (typeof CryptoErrorCode)[keyof typeof CryptoErrorCode];

export class CryptoError extends Error {
  readonly code: CryptoErrorCode;

  constructor(code: CryptoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CryptoError';
    this.code = code;
  }

  /** True when `err` is a CryptoError, optionally with the given code. */
  static is(err: unknown, code?: CryptoErrorCode): err is CryptoError {
    return err instanceof CryptoError && (code === undefined || err.code === code);
  }
}
