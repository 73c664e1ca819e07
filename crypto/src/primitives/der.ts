/**
 * Fixed DER wrapper for raw X25519 private keys (RFC 8410 §7): WebCrypto imports and
 * exports private keys only as PKCS#8 (or JWK). An export is unwrapped only after its
 * whole prefix and length are checked: a platform that adds attributes or the public
 * key (RFC 5958 OneAsymmetricKey v2) is refused, never sliced at a guessed offset.
 */
import { concatBytes, constantTimeEqual, fromHex } from '../bytes.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';

/** SEQUENCE { version 0, AlgorithmIdentifier { id-X25519 }, OCTET STRING { OCTET STRING (32) } } */
const PKCS8_X25519_PREFIX = fromHex('302e020100300506032b656e04220420');
const X25519_PRIVATE_KEY_LENGTH = 32;
export const PKCS8_X25519_LENGTH = PKCS8_X25519_PREFIX.length + X25519_PRIVATE_KEY_LENGTH;

export function pkcs8X25519(privateKey: Uint8Array): Uint8Array {
  return concatBytes(PKCS8_X25519_PREFIX, privateKey);
}

/** The 32-byte private key inside a PKCS#8 X25519 export; CryptoError(InvalidKey) for any other shape. */
export function privateKeyFromPkcs8X25519(pkcs8: Uint8Array): Uint8Array {
  if (
    pkcs8.length !== PKCS8_X25519_LENGTH ||
    !constantTimeEqual(pkcs8.subarray(0, PKCS8_X25519_PREFIX.length), PKCS8_X25519_PREFIX)
  ) {
    throw new CryptoError(CryptoErrorCode.InvalidKey, 'WebCrypto exported an X25519 key in an unexpected PKCS#8 form');
  }
  return pkcs8.slice(PKCS8_X25519_PREFIX.length);
}
