/**
 * Argument checks every AES-256-CBC and AES-256-CTR implementation shares, so all three refuse the same
 * inputs with the same typed errors (a platform's own message never leaks through).
 */
import { CryptoError, CryptoErrorCode } from '../errors.ts';

export const AES_256_KEY_LENGTH = 32;
export const AES_BLOCK_LENGTH = 16;

/** Key and counter-block checks for AES-256-CTR (any data length is valid). */
export function checkCtrArguments(key: Uint8Array, iv: Uint8Array): void {
  if (key.length !== AES_256_KEY_LENGTH) {
    throw new CryptoError(CryptoErrorCode.InvalidKey, `AES-256 key must be ${AES_256_KEY_LENGTH} bytes`);
  }
  if (iv.length !== AES_BLOCK_LENGTH) {
    throw new CryptoError(CryptoErrorCode.InvalidArgument, `AES-CTR counter block must be ${AES_BLOCK_LENGTH} bytes`);
  }
}

export function checkCbcArguments(key: Uint8Array, iv: Uint8Array, ciphertext?: Uint8Array): void {
  if (key.length !== AES_256_KEY_LENGTH) {
    throw new CryptoError(CryptoErrorCode.InvalidKey, `AES-256 key must be ${AES_256_KEY_LENGTH} bytes`);
  }
  if (iv.length !== AES_BLOCK_LENGTH) {
    throw new CryptoError(CryptoErrorCode.InvalidArgument, `AES-CBC IV must be ${AES_BLOCK_LENGTH} bytes`);
  }
  if (ciphertext && (ciphertext.length === 0 || ciphertext.length % AES_BLOCK_LENGTH !== 0)) {
    throw new CryptoError(CryptoErrorCode.DecryptFailed, 'AES-CBC ciphertext is not a positive number of blocks');
  }
}
