/**
 * XEdDSA over Curve25519 ("The XEdDSA and VXEdDSA Signature Schemes", rev. 1, §2.3, §3.3),
 * in libsignal's variant: instead of negating the private scalar so the Edwards public
 * key has sign bit 0 (calculate_key_pair), the signer keeps its real Edwards sign bit
 * and stores it in the top bit of the signature's last byte (s < 2^253 leaves it free).
 * The verifier rebuilds the Edwards key from u with that bit. Signatures from the spec's
 * variant (sign bit 0) verify too, since their top bit is 0.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { bytesToNumberLE, concatBytes, constantTimeEqual, expectBytes, numberToBytesLE } from './bytes.ts';
import { PRIVATE_KEY_LENGTH, PUBLIC_KEY_LENGTH } from './keys/curve.ts';
import { loadNodeEd25519Verify } from './primitives/node.ts';

export const SIGNATURE_LENGTH = 64;

const Point = ed25519.Point;
const L = Point.Fn.ORDER;
const P = Point.Fp.ORDER;
const Fp = Point.Fp;

/**
 * Edwards y for recently seen Montgomery u (a bundle's two prekey signatures share one
 * identity key): the field inversion is the costliest step of verification. Public data only.
 */
const edwardsYCache = new Map<bigint, bigint>();
const EDWARDS_Y_CACHE_SIZE = 64;

function edwardsY(u: bigint): bigint {
  let y = edwardsYCache.get(u);
  if (y === undefined) {
    // Birational map of RFC 7748 §4.1: y = (u - 1) / (u + 1).
    y = Fp.div(Fp.create(u - 1n), Fp.create(u + 1n));
    if (edwardsYCache.size >= EDWARDS_Y_CACHE_SIZE) edwardsYCache.delete(edwardsYCache.keys().next().value as bigint);
    edwardsYCache.set(u, y);
  }
  return y;
}

/** Edwards public keys of signing keys, keyed by the private-key array the caller keeps. */
const edwardsPublicCache = new WeakMap<Uint8Array, Uint8Array>();

/** hash_1 prefix of XEdDSA §2.5: 2^256 - 1 - 1 encoded little-endian = 0xFE then 31 × 0xFF. */
const HASH1_PREFIX = (() => {
  const prefix = new Uint8Array(32).fill(0xff);
  prefix[0] = 0xfe;
  return prefix;
})();

function hashToScalar(...parts: Uint8Array[]): bigint {
  return bytesToNumberLE(sha512(concatBytes(...parts))) % L;
}

/**
 * Signs `message` with a clamped Curve25519 private key. `random64` is the 64 bytes Z of
 * §3.3; it is drawn from the platform CSPRNG unless a test pins it.
 */
export function xeddsaSignRaw(privateKey: Uint8Array, message: Uint8Array, random64?: Uint8Array): Uint8Array {
  expectBytes(privateKey, PRIVATE_KEY_LENGTH, 'private key');
  const z = random64 ?? globalThis.crypto.getRandomValues(new Uint8Array(64));
  expectBytes(z, 64, 'signature randomness');
  const a = bytesToNumberLE(privateKey) % L;
  // A = aB is public and fixed per key: long-lived signers (identity, sender keys) compute it once.
  let aBytes = edwardsPublicCache.get(privateKey);
  if (!aBytes) {
    aBytes = Point.BASE.multiply(a).toBytes();
    edwardsPublicCache.set(privateKey, aBytes);
  }
  const signBit = aBytes[31]! & 0x80;
  const r = hashToScalar(HASH1_PREFIX, privateKey, message, z);
  const rBytes = Point.BASE.multiply(r).toBytes();
  const h = hashToScalar(rBytes, aBytes, message);
  const s = (h * a + r) % L;
  const signature = concatBytes(rBytes, numberToBytesLE(s, 32));
  signature[63] = (signature[63]! & 0x7f) | signBit;
  return signature;
}

/**
 * Verifies an XEdDSA signature against a 32-byte u-coordinate. Never throws: any
 * malformed input (lengths, u ≥ p, u = -1, not on the curve, s out of range) is `false`.
 */
export function xeddsaVerifyRaw(
  publicKeyU: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  options: { reference?: boolean } = {},
): boolean {
  try {
    if (!(publicKeyU instanceof Uint8Array) || publicKeyU.length !== PUBLIC_KEY_LENGTH) return false;
    if (!(message instanceof Uint8Array)) return false;
    if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_LENGTH) return false;
    const u = bytesToNumberLE(publicKeyU);
    // §3.3 verify: reject u ≥ p; u = p - 1 has no Edwards image (division by zero).
    if (u >= P || u === P - 1n) return false;
    const aBytes = numberToBytesLE(edwardsY(u), 32);
    aBytes[31] = (aBytes[31]! & 0x7f) | (signature[63]! & 0x80);
    const rBytes = signature.subarray(0, 32);
    const sBytes = signature.slice(32);
    sBytes[31]! &= 0x7f;
    const s = bytesToNumberLE(sBytes);
    // §3.3 rejects s ≥ 2^253; we also refuse s ≥ L so no signature has two encodings.
    if (s >= L) return false;
    // From here XEdDSA verification is exactly Ed25519's (R || s against A): let OpenSSL
    // do it where present (≈15× faster); noble below is the reference, cross-checked in tests.
    const fast = options.reference ? undefined : loadNodeEd25519Verify();
    if (fast) return fast(aBytes, message, concatBytes(rBytes, sBytes));
    const A = Point.fromBytes(aBytes);
    const h = hashToScalar(rBytes, aBytes, message);
    const check = Point.BASE.multiplyUnsafe(s).subtract(A.multiplyUnsafe(h)).toBytes();
    return constantTimeEqual(check, rBytes);
  } catch {
    return false;
  }
}
