/**
 * ML-KEM-1024 (FIPS 203) keys for PQXDH's post-quantum prekeys, via @noble/post-quantum.
 * EncodeKEM (PQXDH §2.5) prefixes a type byte, as libsignal does for its KEM keys; 0x0A
 * is ours for FIPS 203 ML-KEM-1024 (libsignal's 0x08 names pre-standard Kyber-1024).
 */
import { sha3_256 } from '@noble/hashes/sha3.js';
import { ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { constantTimeEqual, expectBytes, toHex } from '../bytes.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { redactSecrets } from '../redact.ts';

export const KEM_KEY_TYPE_ML_KEM_1024 = 0x0a;
export const KEM_PUBLIC_KEY_LENGTH = 1568;
export const KEM_SECRET_KEY_LENGTH = 3168;
export const KEM_CIPHERTEXT_LENGTH = 1568;
export const SERIALIZED_KEM_PUBLIC_KEY_LENGTH = 1 + KEM_PUBLIC_KEY_LENGTH;
/** FIPS 203 §7.1: dk = dk_PKE (384·k = 1536 bytes for k = 4) ‖ ek ‖ H(ek) ‖ z. */
const DK_PKE_LENGTH = 1536;

export function serializeKemPublicKey(publicKey: Uint8Array): Uint8Array {
  const out = new Uint8Array(SERIALIZED_KEM_PUBLIC_KEY_LENGTH);
  out[0] = KEM_KEY_TYPE_ML_KEM_1024;
  out.set(publicKey, 1);
  return out;
}

export function deserializeKemPublicKey(serialized: Uint8Array): Uint8Array {
  expectBytes(serialized, SERIALIZED_KEM_PUBLIC_KEY_LENGTH, 'serialized ML-KEM public key');
  if (serialized[0] !== KEM_KEY_TYPE_ML_KEM_1024) {
    throw new CryptoError(CryptoErrorCode.InvalidKey, `unknown KEM key type 0x${serialized[0]!.toString(16)}`);
  }
  return serialized.slice(1);
}

export class KemKeyPair {
  readonly publicKey: Uint8Array;
  readonly #secretKey: Uint8Array;

  constructor(publicKey: Uint8Array, secretKey: Uint8Array) {
    expectBytes(publicKey, KEM_PUBLIC_KEY_LENGTH, 'ML-KEM public key');
    expectBytes(secretKey, KEM_SECRET_KEY_LENGTH, 'ML-KEM secret key');
    // The decapsulation key embeds the encapsulation key and its hash (FIPS 203 §7.1, and
    // the §7.3 "hash check"): a stored pair whose halves disagree is refused, not used.
    const embedded = secretKey.subarray(DK_PKE_LENGTH, DK_PKE_LENGTH + KEM_PUBLIC_KEY_LENGTH);
    const embeddedHash = secretKey.subarray(
      DK_PKE_LENGTH + KEM_PUBLIC_KEY_LENGTH,
      DK_PKE_LENGTH + KEM_PUBLIC_KEY_LENGTH + 32,
    );
    if (!constantTimeEqual(embedded, publicKey) || !constantTimeEqual(embeddedHash, sha3_256(publicKey))) {
      throw new CryptoError(CryptoErrorCode.InvalidKey, 'ML-KEM secret key does not belong to its public key');
    }
    this.publicKey = publicKey;
    this.#secretKey = secretKey;
  }

  static generate(): KemKeyPair {
    const { publicKey, secretKey } = ml_kem1024.keygen();
    return new KemKeyPair(publicKey, secretKey);
  }

  exportSecretKey(): Uint8Array {
    return this.#secretKey.slice();
  }

  /** FIPS 203 §7.3 ML-KEM.Decaps; implicit rejection means a bad ciphertext yields a wrong secret, not an error. */
  decapsulate(cipherText: Uint8Array): Uint8Array {
    expectBytes(cipherText, KEM_CIPHERTEXT_LENGTH, 'ML-KEM ciphertext');
    return ml_kem1024.decapsulate(cipherText, this.#secretKey);
  }
}
redactSecrets(KemKeyPair, (self: KemKeyPair) => `publicKey: ${toHex(self.publicKey.subarray(0, 8))}…`);

/** FIPS 203 §7.2 ML-KEM.Encaps (validates the public key's encoding). */
export function kemEncapsulate(publicKey: Uint8Array): { cipherText: Uint8Array; sharedSecret: Uint8Array } {
  try {
    return ml_kem1024.encapsulate(publicKey);
  } catch (cause) {
    throw new CryptoError(CryptoErrorCode.InvalidKey, 'invalid ML-KEM-1024 public key', { cause });
  }
}
