/**
 * libsignal crypto.rs aes256_ctr_hmacsha256_encrypt / _decrypt, the symmetric layer of sealed
 * sender v1: AES-256-CTR from an all-zero counter block (each key encrypts one message), then
 * HMAC-SHA-256 over the ciphertext truncated to 10 bytes (encrypt-then-MAC). The MAC is checked
 * in constant time before anything is decrypted.
 */
import { concatBytes, constantTimeEqual } from '../bytes.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import type { Primitives } from '../primitives/index.ts';

/** libsignal truncates the sealed-sender MACs to 10 bytes. */
export const SEALED_MAC_LENGTH = 10;
const ZERO_COUNTER = new Uint8Array(16);

export async function ctrHmacEncrypt(
  p: Primitives,
  cipherKey: Uint8Array,
  macKey: Uint8Array,
  plaintext: Uint8Array,
): Promise<Uint8Array> {
  const ciphertext = await p.aesCtr(cipherKey, ZERO_COUNTER, plaintext);
  const mac = await p.hmacSha256(macKey, ciphertext);
  return concatBytes(ciphertext, mac.subarray(0, SEALED_MAC_LENGTH));
}

/** Refuses (CRYPTO_DECRYPT_FAILED) anything shorter than a MAC or whose MAC does not verify. */
export async function ctrHmacDecrypt(
  p: Primitives,
  cipherKey: Uint8Array,
  macKey: Uint8Array,
  sealed: Uint8Array,
  what: string,
): Promise<Uint8Array> {
  if (sealed.length < SEALED_MAC_LENGTH) {
    throw new CryptoError(CryptoErrorCode.DecryptFailed, `${what}: shorter than its MAC`);
  }
  const ciphertext = sealed.subarray(0, sealed.length - SEALED_MAC_LENGTH);
  const mac = await p.hmacSha256(macKey, ciphertext);
  if (!constantTimeEqual(mac.subarray(0, SEALED_MAC_LENGTH), sealed.subarray(sealed.length - SEALED_MAC_LENGTH))) {
    throw new CryptoError(CryptoErrorCode.DecryptFailed, `${what}: MAC did not verify`);
  }
  return p.aesCtr(cipherKey, ZERO_COUNTER, ciphertext);
}
