import { expectBytes, toHex } from '../bytes.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { redactSecrets } from '../redact.ts';
import { xeddsaSignRaw, xeddsaVerifyRaw } from '../xeddsa.ts';
import {
  deserializePublicKey,
  KeyPair,
  keyPairBytes,
  PRIVATE_KEY_LENGTH,
  SERIALIZED_PUBLIC_KEY_LENGTH,
} from './curve.ts';

const identityPairs = new WeakMap<IdentityKeyPair, KeyPair>();

/**
 * A long-term Curve25519 identity key (X3DH §2.1 "IK"), signing with XEdDSA.
 * `publicKey` is libsignal's 33-byte serialization (0x05 || u).
 */
export class IdentityKeyPair {
  /** 33 bytes, 0x05-prefixed, as libsignal's PublicKey.serialize(). */
  readonly publicKey: Uint8Array;
  readonly #keyPair: KeyPair;

  private constructor(keyPair: KeyPair) {
    this.#keyPair = keyPair;
    this.publicKey = keyPair.serializedPublicKey();
    identityPairs.set(this, keyPair);
  }

  static generate(): IdentityKeyPair {
    return new IdentityKeyPair(KeyPair.generate());
  }

  /** From a 32-byte private key (libsignal PrivateKey.serialize()); clamped on import. */
  static fromPrivateKey(privateKey: Uint8Array): IdentityKeyPair {
    expectBytes(privateKey, PRIVATE_KEY_LENGTH, 'identity private key');
    return new IdentityKeyPair(new KeyPair(privateKey));
  }

  /**
   * Parses libsignal's IdentityKeyPair.serialize() layout (protobuf: field 1 = 33-byte
   * public key, field 2 = 32-byte private key) and checks the halves match.
   */
  static deserialize(bytes: Uint8Array): IdentityKeyPair {
    expectBytes(bytes, undefined, 'serialized identity key pair');
    const expectedLength = 2 + SERIALIZED_PUBLIC_KEY_LENGTH + 2 + PRIVATE_KEY_LENGTH;
    if (
      bytes.length !== expectedLength ||
      bytes[0] !== 0x0a ||
      bytes[1] !== SERIALIZED_PUBLIC_KEY_LENGTH ||
      bytes[35] !== 0x12 ||
      bytes[36] !== PRIVATE_KEY_LENGTH
    ) {
      throw new CryptoError(CryptoErrorCode.MalformedMessage, 'not a serialized identity key pair');
    }
    const pair = IdentityKeyPair.fromPrivateKey(bytes.subarray(37, 69));
    const claimed = bytes.subarray(2, 35);
    deserializePublicKey(claimed);
    if (toHex(claimed) !== toHex(pair.publicKey)) {
      throw new CryptoError(CryptoErrorCode.InvalidKey, 'identity public key does not match its private key');
    }
    return pair;
  }

  /** libsignal-compatible serialization (see deserialize). Contains the private key. */
  serialize(): Uint8Array {
    const priv = this.#keyPair.exportPrivateKey();
    const out = new Uint8Array(2 + SERIALIZED_PUBLIC_KEY_LENGTH + 2 + PRIVATE_KEY_LENGTH);
    out[0] = 0x0a;
    out[1] = SERIALIZED_PUBLIC_KEY_LENGTH;
    out.set(this.publicKey, 2);
    out[35] = 0x12;
    out[36] = PRIVATE_KEY_LENGTH;
    out.set(priv, 37);
    return out;
  }

  /** 64-byte XEdDSA signature, verifiable by libsignal's PublicKey.verify. */
  sign(message: Uint8Array): Uint8Array {
    expectBytes(message, undefined, 'message');
    return xeddsaSignRaw(keyPairBytes(this.#keyPair).privateKey, message);
  }

  /** A copy of the underlying X25519 key pair: changing its arrays cannot change this identity. */
  get keyPair(): KeyPair {
    return new KeyPair(this.#keyPair.exportPrivateKey(), this.#keyPair.publicKey.slice());
  }
}
redactSecrets(IdentityKeyPair, (self: IdentityKeyPair) => `publicKey: ${toHex(self.publicKey)}`);

/** Internal (not exported by the package): the identity's own key arrays, for PQXDH's DH. */
export function identityKeyBytes(identity: IdentityKeyPair): { privateKey: Uint8Array; publicKey: Uint8Array } {
  return keyPairBytes(identityPairs.get(identity)!);
}

export function generateIdentityKeyPair(): IdentityKeyPair {
  return IdentityKeyPair.generate();
}

/** XEdDSA signature with an identity key (same as identityKeyPair.sign(message)). */
export function xeddsaSign(identityKeyPair: IdentityKeyPair, message: Uint8Array): Uint8Array {
  return identityKeyPair.sign(message);
}

/**
 * Verifies a 64-byte XEdDSA signature made by the holder of `publicKey` (33 bytes,
 * 0x05-prefixed). Returns false, never throws, for any malformed input.
 */
export function xeddsaVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  let u: Uint8Array;
  try {
    u = deserializePublicKey(publicKey);
  } catch {
    return false;
  }
  return xeddsaVerifyRaw(u, message, signature);
}
