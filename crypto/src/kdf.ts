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
/**
 * Double Ratchet §5.2 ENCRYPT as libsignal instantiates it (ratchet/keys.rs MessageKeys):
 * HKDF(mk, info "WhisperMessageKeys") → 80 bytes. The same string as libsignal's, so a
 * cross-test can derive the same keys; the root and X3DH info strings stay Pulse's own.
 */
export const MESSAGE_KEYS_INFO = utf8('WhisperMessageKeys');
/** Sender Keys message keys (libsignal sender_keys.rs SenderMessageKey): HKDF(seed, info "WhisperGroup") → 48 bytes. */
export const SENDER_KEY_INFO = utf8('WhisperGroup');
/** libsignal protocol.rs SignalMessage::MAC_LENGTH: HMAC-SHA-256 truncated to 8 bytes. */
export const MESSAGE_MAC_LENGTH = 8;

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

/** One message's keys: AES-256-CBC key and IV, and the HMAC-SHA-256 key of its MAC. */
export interface MessageKeys {
  cipherKey: Uint8Array;
  macKey: Uint8Array;
  iv: Uint8Array;
}

/**
 * Double Ratchet §5.2 ENCRYPT, libsignal's construction: HKDF(salt = 0^32, IKM = mk,
 * "WhisperMessageKeys") → cipher key 32 ‖ MAC key 32 ‖ IV 16. A state restored from an old
 * copy reuses (key, IV) only with CBC, whose repeat reveals equal leading blocks, never the
 * XOR of plaintexts or an authentication key as a repeated GCM nonce would.
 */
export async function messageKeys(p: Primitives, messageKey: Uint8Array): Promise<MessageKeys> {
  const out = await p.hkdfSha256(messageKey, ZERO_SALT, MESSAGE_KEYS_INFO, 80);
  return { cipherKey: out.subarray(0, 32), macKey: out.subarray(32, 64), iv: out.subarray(64, 80) };
}

/**
 * libsignal protocol.rs SignalMessage::compute_mac: HMAC-SHA-256(macKey, senderIdentity ‖
 * receiverIdentity ‖ message)[0..8], identities in their 33-byte serialization and `message`
 * everything the MAC follows (version byte first): encrypt-then-MAC.
 */
export async function messageMac(
  p: Primitives,
  macKey: Uint8Array,
  senderIdentity: Uint8Array,
  receiverIdentity: Uint8Array,
  message: Uint8Array,
): Promise<Uint8Array> {
  const full = await p.hmacSha256(macKey, concatBytes(senderIdentity, receiverIdentity, message));
  return full.subarray(0, MESSAGE_MAC_LENGTH);
}

/** Sender Keys: libsignal SenderMessageKey::new: HKDF(salt = 0^32, IKM = seed, "WhisperGroup") → IV 16 ‖ cipher key 32. */
export async function senderMessageKeys(
  p: Primitives,
  seed: Uint8Array,
): Promise<{ cipherKey: Uint8Array; iv: Uint8Array }> {
  const out = await p.hkdfSha256(seed, ZERO_SALT, SENDER_KEY_INFO, 48);
  return { iv: out.subarray(0, 16), cipherKey: out.subarray(16, 48) };
}
