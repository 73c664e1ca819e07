/**
 * Fixed DER wrappers for raw X25519 keys (RFC 8410): platforms import private keys
 * only as PKCS#8 and public keys as SubjectPublicKeyInfo.
 */
import { concatBytes } from '../bytes.ts';

const PKCS8_X25519_PREFIX = Uint8Array.of(
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x6e,
  0x04,
  0x22,
  0x04,
  0x20,
);
const SPKI_X25519_PREFIX = Uint8Array.of(0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00);

export function pkcs8X25519(privateKey: Uint8Array): Uint8Array {
  return concatBytes(PKCS8_X25519_PREFIX, privateKey);
}

export function spkiX25519(publicKey: Uint8Array): Uint8Array {
  return concatBytes(SPKI_X25519_PREFIX, publicKey);
}

export const SPKI_X25519_PREFIX_LENGTH = SPKI_X25519_PREFIX.length;
export const PKCS8_X25519_PREFIX_LENGTH = PKCS8_X25519_PREFIX.length;
