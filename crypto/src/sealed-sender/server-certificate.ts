/**
 * The server certificate of sealed sender (libsignal sealed_sender.rs ServerCertificate,
 * sealed_sender.proto `ServerCertificate`): a server signing key and its id, signed with XEdDSA
 * by an offline trust root that clients pin. Wire form, as libsignal's:
 *   ServerCertificate { certificate = 1: bytes, signature = 2: bytes }
 *   certificate = ServerCertificate.Certificate { id = 1: uint32, key = 2: bytes (33, 0x05 ‖ u) }
 */
import { constantTimeEqual, expectBytes, toHex } from '../bytes.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { deserializePublicKey } from '../keys/curve.ts';
import { xeddsaVerify } from '../keys/identity.ts';
import { ProtoFields, ProtoWriter } from './protobuf.ts';

/**
 * Server key ids refused whatever signed them: libsignal's REVOKED_SERVER_CERTIFICATE_KEY_IDS
 * (0xDEADC357 is its test id for the revocation path), kept so libsignal and crypto/ accept the
 * same certificates.
 */
export const REVOKED_SERVER_KEY_IDS: readonly number[] = Object.freeze([0xdeadc357]);

/** Whatever signs a certificate: a public key (33 bytes) and XEdDSA over it. `IdentityKeyPair` is one. */
export interface CertificateSigner {
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

export class ServerCertificate {
  /** The server key's id (u32), so a client can name a key and an operator can revoke one. */
  readonly keyId: number;
  /** The server's signing key, 33 bytes (0x05 ‖ u). */
  readonly serverKey: Uint8Array;
  /** The signed bytes (the encoded `Certificate`). */
  readonly certificate: Uint8Array;
  readonly signature: Uint8Array;
  readonly #serialized: Uint8Array;

  private constructor(keyId: number, serverKey: Uint8Array, certificate: Uint8Array, signature: Uint8Array) {
    this.keyId = keyId;
    this.serverKey = serverKey;
    this.certificate = certificate;
    this.signature = signature;
    this.#serialized = new ProtoWriter().bytes(1, certificate).bytes(2, signature).finish();
  }

  /** Signs (keyId, serverKey) with the trust root (libsignal ServerCertificate::new). */
  static issue(keyId: number, serverKey: Uint8Array, trustRoot: CertificateSigner): ServerCertificate {
    if (!Number.isInteger(keyId) || keyId < 0 || keyId > 0xffffffff) {
      throw new CryptoError(CryptoErrorCode.InvalidArgument, 'server key id must be a u32');
    }
    deserializePublicKey(expectBytes(serverKey, undefined, 'server key'));
    const certificate = new ProtoWriter().uint(1, keyId).bytes(2, serverKey).finish();
    return new ServerCertificate(keyId, serverKey.slice(), certificate, trustRoot.sign(certificate));
  }

  /** Parses libsignal's `ServerCertificate` encoding; nothing is trusted until `isSignedBy`. */
  static deserialize(bytes: Uint8Array): ServerCertificate {
    expectBytes(bytes, undefined, 'server certificate');
    const outer = ProtoFields.decode(bytes, [1, 2], 'server certificate');
    const certificate = outer.requiredBytes(1);
    const signature = outer.requiredBytes(2);
    const inner = ProtoFields.decode(certificate, [1, 2], 'server certificate data');
    const keyId = inner.requiredUint32(1);
    const serverKey = inner.requiredBytes(2);
    deserializePublicKey(serverKey);
    return new ServerCertificate(keyId, serverKey, certificate, signature);
  }

  serialize(): Uint8Array {
    return this.#serialized.slice();
  }

  /**
   * True when one of `trustRoots` (33-byte keys) signed this certificate and its key id is not
   * revoked (libsignal ServerCertificate::validate / validateWithTrustRoots). Every root is
   * tried, whichever matched, so the time taken does not tell which one did.
   */
  isSignedBy(trustRoots: readonly Uint8Array[], revokedKeyIds: readonly number[] = []): boolean {
    if (this.isRevoked(revokedKeyIds)) return false;
    let signed = false;
    for (const root of trustRoots) {
      if (xeddsaVerify(root, this.certificate, this.signature)) signed = true;
    }
    return signed;
  }

  /** True when this key id is revoked: libsignal's REVOKED_SERVER_KEY_IDS, or one of `revokedKeyIds`. */
  isRevoked(revokedKeyIds: readonly number[] = []): boolean {
    return REVOKED_SERVER_KEY_IDS.includes(this.keyId) || revokedKeyIds.includes(this.keyId);
  }

  /** True when both are the same certificate, byte for byte. */
  equals(other: ServerCertificate): boolean {
    return constantTimeEqual(this.#serialized, other.#serialized);
  }

  toJSON(): { keyId: number; serverKey: string } {
    return { keyId: this.keyId, serverKey: toHex(this.serverKey) };
  }
}
