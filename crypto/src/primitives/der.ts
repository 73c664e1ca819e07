/**
 * Fixed DER wrapper for raw X25519 private keys (RFC 8410): WebCrypto imports private
 * keys only as PKCS#8 (or JWK).
 */
import { concatBytes, fromHex } from '../bytes.ts';

/** SEQUENCE { version 0, AlgorithmIdentifier { id-X25519 }, OCTET STRING { OCTET STRING (32) } } */
const PKCS8_X25519_PREFIX = fromHex('302e020100300506032b656e04220420');

export function pkcs8X25519(privateKey: Uint8Array): Uint8Array {
  return concatBytes(PKCS8_X25519_PREFIX, privateKey);
}

export const PKCS8_X25519_PREFIX_LENGTH = PKCS8_X25519_PREFIX.length;
