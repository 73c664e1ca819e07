/**
 * The sender certificate of sealed sender (libsignal sealed_sender.rs SenderCertificate): the
 * server vouches, until `expiresAt`, that an account's device holds an identity key. Wire form,
 * as libsignal's, fields written in ascending number order as prost writes them:
 *   SenderCertificate { certificate = 1: bytes, signature = 2: bytes }
 *   certificate = SenderCertificate.Certificate {
 *     senderDevice = 2: uint32, expires = 3: fixed64 (ms since 1970), identityKey = 4: bytes (33),
 *     signer = 5: ServerCertificate, senderUuid = 6: string }
 * Pulse puts the account name where Signal puts the ACI's UUID string (libsignal-client accepts
 * any string there; its `senderAci()` is then null) and never writes senderE164 (field 1).
 */
import { constantTimeEqual, expectBytes, toHex } from '../bytes.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { deserializePublicKey } from '../keys/curve.ts';
import { xeddsaVerify } from '../keys/identity.ts';
import { ProtoFields, ProtoWriter } from './protobuf.ts';
import { type CertificateSigner, ServerCertificate } from './server-certificate.ts';
import type { VerifiedCertificates } from './verified-certificates.ts';

/** Longest account (UTF-8 bytes) a certificate may name; Pulse account names are at most 32. */
export const MAX_CERTIFICATE_ACCOUNT_BYTES = 255;

/** Who a sender certificate names. */
export interface CertifiedSender {
  /** The Pulse account name (libsignal's senderUuid field). */
  readonly account: string;
  /** The sending device, ≥ 1. */
  readonly deviceId: number;
  /** The device's identity key, 33 bytes (0x05 ‖ u). */
  readonly identityKey: Uint8Array;
}

export interface SenderCertificateFields extends CertifiedSender {
  /** Last instant (ms since 1970) the certificate is valid at; libsignal refuses it when now > expiresAt. */
  readonly expiresAt: number;
}

export interface CertificateValidation {
  /** Pinned trust-root keys (33 bytes each); the server certificate must be signed by one. */
  readonly trustRoots: readonly Uint8Array[];
  /** The time to check expiry at, ms since 1970 (the message's server timestamp, as Signal does, or now). */
  readonly now: number;
  /** Server key ids refused besides libsignal's REVOKED_SERVER_KEY_IDS. */
  readonly revokedServerKeyIds?: readonly number[];
  /** Certificates whose signatures verified before (verified-certificates.ts): not verified again. */
  readonly verified?: VerifiedCertificates;
}

function checkAccount(account: string, malformed: boolean): void {
  const length = new TextEncoder().encode(account).length;
  if (length === 0 || length > MAX_CERTIFICATE_ACCOUNT_BYTES) {
    const code = malformed ? CryptoErrorCode.MalformedMessage : CryptoErrorCode.InvalidArgument;
    throw new CryptoError(code, `certificate account must be 1 to ${MAX_CERTIFICATE_ACCOUNT_BYTES} bytes`);
  }
}

function checkDeviceId(deviceId: number, malformed: boolean): void {
  if (!Number.isInteger(deviceId) || deviceId < 1 || deviceId > 0xffffffff) {
    const code = malformed ? CryptoErrorCode.MalformedMessage : CryptoErrorCode.InvalidArgument;
    throw new CryptoError(code, 'certificate device id must be a u32 ≥ 1');
  }
}

export class SenderCertificate implements CertifiedSender {
  readonly account: string;
  readonly deviceId: number;
  readonly identityKey: Uint8Array;
  readonly expiresAt: number;
  /** The server certificate that signed this one (embedded, as libsignal embeds it). */
  readonly signer: ServerCertificate;
  /** The signed bytes (the encoded `Certificate`). */
  readonly certificate: Uint8Array;
  readonly signature: Uint8Array;
  readonly #serialized: Uint8Array;

  private constructor(
    fields: SenderCertificateFields,
    signer: ServerCertificate,
    certificate: Uint8Array,
    signature: Uint8Array,
    serialized?: Uint8Array,
  ) {
    this.account = fields.account;
    this.deviceId = fields.deviceId;
    this.identityKey = fields.identityKey;
    this.expiresAt = fields.expiresAt;
    this.signer = signer;
    this.certificate = certificate;
    this.signature = signature;
    this.#serialized = serialized ?? new ProtoWriter().bytes(1, certificate).bytes(2, signature).finish();
  }

  /**
   * Signs a certificate for `fields` with the server key `serverKey`, which `signer` certifies
   * (libsignal SenderCertificate::new). Refuses a key that is not the one `signer` names: nobody
   * could verify what it signs.
   */
  static issue(
    fields: SenderCertificateFields,
    signer: ServerCertificate,
    serverKey: CertificateSigner,
  ): SenderCertificate {
    checkAccount(fields.account, false);
    checkDeviceId(fields.deviceId, false);
    deserializePublicKey(expectBytes(fields.identityKey, undefined, 'sender identity key'));
    if (!Number.isSafeInteger(fields.expiresAt) || fields.expiresAt < 0) {
      throw new CryptoError(CryptoErrorCode.InvalidArgument, 'certificate expiry must be a non-negative safe integer');
    }
    if (!constantTimeEqual(serverKey.publicKey, signer.serverKey)) {
      throw new CryptoError(CryptoErrorCode.InvalidArgument, 'the signing key is not the server certificate key');
    }
    const certificate = new ProtoWriter()
      .uint(2, fields.deviceId)
      .fixed64(3, fields.expiresAt)
      .bytes(4, fields.identityKey)
      .bytes(5, signer.serialize())
      .string(6, fields.account)
      .finish();
    const copy = { ...fields, identityKey: fields.identityKey.slice() };
    return new SenderCertificate(copy, signer, certificate, serverKey.sign(certificate));
  }

  /** Parses libsignal's `SenderCertificate` encoding; nothing is trusted until `validate`. */
  static deserialize(bytes: Uint8Array): SenderCertificate {
    expectBytes(bytes, undefined, 'sender certificate');
    const outer = ProtoFields.decode(bytes, [1, 2], 'sender certificate');
    const certificate = outer.requiredBytes(1);
    const signature = outer.requiredBytes(2);
    const inner = ProtoFields.decode(certificate, [2, 3, 4, 5, 6], 'sender certificate data');
    const deviceId = inner.requiredUint32(2);
    checkDeviceId(deviceId, true);
    const expiresAt = inner.requiredFixed64(3);
    const identityKey = inner.requiredBytes(4);
    deserializePublicKey(identityKey);
    const signer = ServerCertificate.deserialize(inner.requiredBytes(5));
    const account = inner.requiredString(6);
    checkAccount(account, true);
    return new SenderCertificate(
      { account, deviceId, identityKey, expiresAt },
      signer,
      certificate,
      signature,
      bytes.slice(),
    );
  }

  serialize(): Uint8Array {
    return this.#serialized.slice();
  }

  /**
   * libsignal SenderCertificate::validate, with the reason as a typed error: the server
   * certificate must be signed by a pinned trust root and not revoked, this certificate signed
   * by the server key, and `now` not after `expiresAt`. Refusals:
   * CRYPTO_UNTRUSTED_CERTIFICATE (either signature, or a revoked key id), CRYPTO_CERTIFICATE_EXPIRED.
   */
  validate(options: CertificateValidation): void {
    if (!options.trustRoots.length) {
      throw new CryptoError(CryptoErrorCode.InvalidArgument, 'at least one trust root is needed');
    }
    const { verified, trustRoots } = options;
    if (verified?.has(this.#serialized, trustRoots) === true) {
      // The signatures verified before under these roots; revocation may have come since.
      if (this.signer.isRevoked(options.revokedServerKeyIds)) {
        throw new CryptoError(CryptoErrorCode.UntrustedCertificate, 'server certificate is revoked');
      }
    } else {
      if (!this.signer.isSignedBy(trustRoots, options.revokedServerKeyIds)) {
        throw new CryptoError(
          CryptoErrorCode.UntrustedCertificate,
          'server certificate is not signed by a trusted root (or is revoked)',
        );
      }
      if (!xeddsaVerify(this.signer.serverKey, this.certificate, this.signature)) {
        throw new CryptoError(CryptoErrorCode.UntrustedCertificate, 'sender certificate is not signed by the server');
      }
      verified?.add(this.#serialized, trustRoots);
    }
    if (options.now > this.expiresAt) {
      throw new CryptoError(CryptoErrorCode.CertificateExpired, `sender certificate expired at ${this.expiresAt}`);
    }
  }

  toJSON(): { account: string; deviceId: number; identityKey: string; expiresAt: number } {
    return {
      account: this.account,
      deviceId: this.deviceId,
      identityKey: toHex(this.identityKey),
      expiresAt: this.expiresAt,
    };
  }
}
