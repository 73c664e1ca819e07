import { cbc, ctr } from '@noble/ciphers/aes.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { clampPrivateKey } from '../keys/curve.ts';
import { checkCbcArguments, checkCtrArguments } from './cbc.ts';
import type { Primitives } from './types.ts';

/** Pure-JS reference implementation (@noble/*): runs everywhere, slowest. */
export const noblePrimitives: Primitives = {
  name: 'noble',
  async generateX25519() {
    const privateKey = clampPrivateKey(globalThis.crypto.getRandomValues(new Uint8Array(32)));
    return { privateKey, publicKey: x25519.getPublicKey(privateKey) };
  },
  async x25519(own, peerPublicKey) {
    // noble refuses an all-zero output by throwing; report it as the typed error.
    try {
      return x25519.getSharedSecret(own.privateKey, peerPublicKey);
    } catch (cause) {
      throw new CryptoError(CryptoErrorCode.LowOrderPoint, 'X25519 agreement produced no secret', { cause });
    }
  },
  async hmacSha256(key, data) {
    return hmac(sha256, key, data);
  },
  async hkdfSha256(ikm, salt, info, length) {
    return hkdf(sha256, ikm, salt, info, length);
  },
  async aesCbcEncrypt(key, iv, plaintext) {
    checkCbcArguments(key, iv);
    return cbc(key, iv).encrypt(plaintext);
  },
  async aesCbcDecrypt(key, iv, ciphertext) {
    checkCbcArguments(key, iv, ciphertext);
    try {
      return cbc(key, iv).decrypt(ciphertext);
    } catch (cause) {
      throw new CryptoError(CryptoErrorCode.DecryptFailed, 'AES-CBC padding is invalid', { cause });
    }
  },
  async aesCtr(key, iv, data) {
    checkCtrArguments(key, iv);
    // noble advances the counter block it is given in place: hand it a copy.
    return ctr(key, iv.slice()).encrypt(data);
  },
};
