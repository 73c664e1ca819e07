/**
 * The key derivation steps, each named after the spec function it implements, computed
 * with the primitives of the session or sender key that asks.
 * Hash: SHA-256 throughout (libsignal's instantiation of the specs).
 */
import { concatBytes, utf8 } from './bytes.ts';
import type { Primitives } from './primitives/index.ts';

/** X3DH §2.2 / PQXDH §2.2 info strings; ours, so Pulse keys never collide with Signal's. */
export const X3DH_INFO = utf8('Pulse_X3DH_X25519_SHA-256');
export const PQXDH_INFO = utf8('Pulse_PQXDH_X25519_SHA-256_ML-KEM-1024');
/** Double Ratchet §5.2 KDF_RK info. */
export const RATCHET_INFO = utf8('Pulse_DoubleRatchet_RootKey');
/** Double Ratchet §5.2 ENCRYPT: per-message key and nonce expansion. */
export const MESSAGE_KEYS_INFO = utf8('Pulse_DoubleRatchet_MessageKeys');

const ZERO_SALT = new Uint8Array(32);
/** X3DH §2.2: F is 32 0xFF bytes for X25519, prepended so KM never looks like a valid DH output. */
const F = new Uint8Array(32).fill(0xff);
const CK_MESSAGE_CONSTANT = Uint8Array.of(0x01);
const CK_CHAIN_CONSTANT = Uint8Array.of(0x02);

/** X3DH §2.2 KDF(KM) = HKDF(salt = 0^32, IKM = F || KM, info) → SK (32 bytes). */
export function kdfSharedSecret(p: Primitives, km: Uint8Array, info: Uint8Array): Promise<Uint8Array> {
  return p.hkdfSha256(concatBytes(F, km), ZERO_SALT, info, 32);
}

/** Double Ratchet §5.2 KDF_RK(rk, dh_out) = HKDF(salt = rk, IKM = dh_out) → (rk', ck). */
export async function kdfRootKey(
  p: Primitives,
  rootKey: Uint8Array,
  dhOutput: Uint8Array,
): Promise<{ rootKey: Uint8Array; chainKey: Uint8Array }> {
  const out = await p.hkdfSha256(dhOutput, rootKey, RATCHET_INFO, 64);
  return { rootKey: out.slice(0, 32), chainKey: out.slice(32, 64) };
}

/** Double Ratchet §5.2 KDF_CK(ck): mk = HMAC(ck, 0x01), ck' = HMAC(ck, 0x02). */
export async function kdfChainKey(
  p: Primitives,
  chainKey: Uint8Array,
): Promise<{ chainKey: Uint8Array; messageKey: Uint8Array }> {
  const [messageKey, next] = await Promise.all([
    p.hmacSha256(chainKey, CK_MESSAGE_CONSTANT),
    p.hmacSha256(chainKey, CK_CHAIN_CONSTANT),
  ]);
  return { chainKey: next, messageKey };
}

/**
 * Double Ratchet §5.2 ENCRYPT adapted to AES-256-GCM: HKDF(salt = 0^32, IKM = mk) →
 * 32-byte AES key || 12-byte nonce. Each mk is used once, so each nonce is too.
 */
export async function messageKeyMaterial(
  p: Primitives,
  messageKey: Uint8Array,
): Promise<{ key: Uint8Array; nonce: Uint8Array }> {
  const out = await p.hkdfSha256(messageKey, ZERO_SALT, MESSAGE_KEYS_INFO, 44);
  return { key: out.subarray(0, 32), nonce: out.subarray(32, 44) };
}

/** Sender Keys message keys: HKDF(salt = 0^32, IKM = seed) → AES key || nonce (libsignal uses "WhisperGroup" + CBC). */
export const SENDER_KEY_INFO = utf8('Pulse_SenderKey_MessageKeys');

export async function senderMessageKeyMaterial(
  p: Primitives,
  seed: Uint8Array,
): Promise<{ key: Uint8Array; nonce: Uint8Array }> {
  const out = await p.hkdfSha256(seed, ZERO_SALT, SENDER_KEY_INFO, 44);
  return { key: out.subarray(0, 32), nonce: out.subarray(32, 44) };
}
