import { x25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE, expectBytes, toHex } from '../bytes.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { loadNodeX25519PublicKeyOf } from '../primitives/node.ts';
import { redactSecrets } from '../redact.ts';

/** libsignal's type byte for Curve25519 public keys (DjbType). X3DH §2.5 Encode(PK). */
export const DJB_KEY_TYPE = 0x05;
export const PUBLIC_KEY_LENGTH = 32;
export const SERIALIZED_PUBLIC_KEY_LENGTH = 33;
export const PRIVATE_KEY_LENGTH = 32;

const P = 2n ** 255n - 19n;

/**
 * u-coordinates of the points of order 1, 2, 4 and 8 on Curve25519 (and the twist's
 * small-order points), after reducing mod p with the top bit masked as RFC 7748 §5
 * decodes them. A DH with any of these yields a key an attacker can predict.
 */
const LOW_ORDER_U: readonly bigint[] = [
  0n,
  1n,
  325606250916557431795983626356110631294008115727848805560023387167927233504n,
  39382357235489614581723060781553021112529911719440698176882885853963445705823n,
  P - 1n,
];

/** RFC 7748 §5: decodeUCoordinate masks the top bit; values ≥ p are reduced. */
function decodeU(u: Uint8Array): bigint {
  const masked = u.slice();
  masked[31]! &= 0x7f;
  return bytesToNumberLE(masked) % P;
}

export function isLowOrderPoint(u32: Uint8Array): boolean {
  const u = decodeU(u32);
  return LOW_ORDER_U.includes(u);
}

const nodePublicKeyOf = loadNodeX25519PublicKeyOf();

/** X25519 public key of a clamped private key: OpenSSL in Node, noble elsewhere (the same bytes). */
export function x25519PublicKeyOf(clampedPrivateKey: Uint8Array): Uint8Array {
  return nodePublicKeyOf ? nodePublicKeyOf(clampedPrivateKey) : x25519.getPublicKey(clampedPrivateKey);
}

/** RFC 7748 §5 clamping, applied once when a private key enters the system. */
export function clampPrivateKey(privateKey: Uint8Array): Uint8Array {
  const k = privateKey.slice();
  k[0]! &= 248;
  k[31]! &= 127;
  k[31]! |= 64;
  return k;
}

/** Encode(PK) of X3DH §2.5 as libsignal serializes it: 0x05 || u (33 bytes). */
export function serializePublicKey(u32: Uint8Array): Uint8Array {
  expectBytes(u32, PUBLIC_KEY_LENGTH, 'public key');
  const out = new Uint8Array(SERIALIZED_PUBLIC_KEY_LENGTH);
  out[0] = DJB_KEY_TYPE;
  out.set(u32, 1);
  return out;
}

/**
 * Parses a 33-byte 0x05-prefixed public key into its 32-byte u-coordinate, refusing
 * other lengths, other type bytes, non-canonical u (≥ p or top bit set) and low-order points.
 */
export function deserializePublicKey(serialized: Uint8Array): Uint8Array {
  expectBytes(serialized, SERIALIZED_PUBLIC_KEY_LENGTH, 'serialized public key');
  if (serialized[0] !== DJB_KEY_TYPE) {
    throw new CryptoError(CryptoErrorCode.InvalidKey, `unknown public key type 0x${serialized[0]!.toString(16)}`);
  }
  const u32 = serialized.slice(1);
  if (bytesToNumberLE(u32) >= P) {
    throw new CryptoError(CryptoErrorCode.InvalidKey, 'public key is not a canonical u-coordinate');
  }
  if (isLowOrderPoint(u32)) {
    throw new CryptoError(CryptoErrorCode.LowOrderPoint, 'public key is a low-order point');
  }
  return u32;
}

/** The private half of each KeyPair, for this package's own DH (see keyPairBytes). */
const privateKeys = new WeakMap<KeyPair, Uint8Array>();

/** A Curve25519 key pair; the private half is hidden from JSON and inspect. */
export class KeyPair {
  /** 32-byte u-coordinate. */
  readonly publicKey: Uint8Array;
  readonly #privateKey: Uint8Array;

  constructor(privateKey: Uint8Array, publicKey?: Uint8Array) {
    expectBytes(privateKey, PRIVATE_KEY_LENGTH, 'private key');
    this.#privateKey = clampPrivateKey(privateKey);
    this.publicKey = publicKey ?? x25519PublicKeyOf(this.#privateKey);
    privateKeys.set(this, this.#privateKey);
  }

  static generate(): KeyPair {
    const priv = new Uint8Array(PRIVATE_KEY_LENGTH);
    globalThis.crypto.getRandomValues(priv);
    return new KeyPair(priv);
  }

  /** The clamped 32-byte private scalar. Exposed for storage; treat it as secret. */
  exportPrivateKey(): Uint8Array {
    return this.#privateKey.slice();
  }

  /** Copies of both halves. Treat as secret. */
  exportBytes(): { privateKey: Uint8Array; publicKey: Uint8Array } {
    return { privateKey: this.#privateKey.slice(), publicKey: this.publicKey.slice() };
  }

  /** 0x05-prefixed 33-byte public key. */
  serializedPublicKey(): Uint8Array {
    return serializePublicKey(this.publicKey);
  }
}
redactSecrets(KeyPair, (self: KeyPair) => `publicKey: ${toHex(self.publicKey)}`);

/**
 * Internal (not exported by the package): the key pair's own arrays, not copies, for the
 * primitives' DH. The node:crypto path caches imported keys by array identity, so long-lived
 * keys (identity, signed prekey) are imported once. Never hand these arrays to a caller.
 */
export function keyPairBytes(pair: KeyPair): { privateKey: Uint8Array; publicKey: Uint8Array } {
  return { privateKey: privateKeys.get(pair)!, publicKey: pair.publicKey };
}
