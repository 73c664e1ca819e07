/**
 * Node's fast path: node:crypto (OpenSSL) for X25519, AES-256-GCM, HMAC and HKDF.
 * Reached through process.getBuiltinModule (Node ≥ 20.16) rather than an import, so
 * this file is harmless in a browser bundle: there `loadNodePrimitives()` is undefined.
 */
import type * as NodeCrypto from 'node:crypto';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { PKCS8_X25519_PREFIX_LENGTH, pkcs8X25519, SPKI_X25519_PREFIX_LENGTH, spkiX25519 } from './der.ts';
import type { Primitives } from './types.ts';

type NodeProcess = { getBuiltinModule?: (id: string) => unknown; versions?: { node?: string } };

function nodeCrypto(): typeof NodeCrypto | undefined {
  const proc = (globalThis as { process?: NodeProcess }).process;
  if (typeof proc?.getBuiltinModule !== 'function') return undefined;
  return proc.getBuiltinModule('node:crypto') as typeof NodeCrypto | undefined;
}

function u8(buffer: Uint8Array): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

function build(c: typeof NodeCrypto): Primitives {
  const privateKeyObject = (privateKey: Uint8Array) =>
    c.createPrivateKey({ key: Buffer.from(pkcs8X25519(privateKey)), format: 'der', type: 'pkcs8' });
  return {
    name: 'node',
    async generateX25519() {
      const { privateKey, publicKey } = c.generateKeyPairSync('x25519', {
        privateKeyEncoding: { format: 'der', type: 'pkcs8' },
        publicKeyEncoding: { format: 'der', type: 'spki' },
      });
      return {
        privateKey: u8(privateKey.subarray(PKCS8_X25519_PREFIX_LENGTH)),
        publicKey: u8(publicKey.subarray(SPKI_X25519_PREFIX_LENGTH)),
      };
    },
    async x25519(privateKey, publicKey) {
      try {
        const pub = c.createPublicKey({ key: Buffer.from(spkiX25519(publicKey)), format: 'der', type: 'spki' });
        return u8(c.diffieHellman({ privateKey: privateKeyObject(privateKey), publicKey: pub }));
      } catch (cause) {
        throw new CryptoError(CryptoErrorCode.LowOrderPoint, 'X25519 agreement produced no secret', { cause });
      }
    },
    async hmacSha256(key, data) {
      return u8(c.createHmac('sha256', key).update(data).digest());
    },
    async hkdfSha256(ikm, salt, info, length) {
      return new Uint8Array(c.hkdfSync('sha256', ikm, salt, info, length));
    },
    async aesGcmEncrypt(key, nonce, plaintext, aad) {
      const cipher = c.createCipheriv('aes-256-gcm', key, nonce);
      cipher.setAAD(aad);
      const head = cipher.update(plaintext);
      const tail = cipher.final();
      return u8(Buffer.concat([head, tail, cipher.getAuthTag()]));
    },
    async aesGcmDecrypt(key, nonce, ciphertext, aad) {
      if (ciphertext.length < 16) throw new CryptoError(CryptoErrorCode.DecryptFailed, 'ciphertext shorter than a tag');
      try {
        const decipher = c.createDecipheriv('aes-256-gcm', key, nonce);
        decipher.setAAD(aad);
        decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
        const head = decipher.update(ciphertext.subarray(0, ciphertext.length - 16));
        return u8(Buffer.concat([head, decipher.final()]));
      } catch (cause) {
        throw new CryptoError(CryptoErrorCode.DecryptFailed, 'authentication tag did not verify', { cause });
      }
    },
  };
}

let cached: Primitives | null | undefined;

/** The node:crypto primitives, or undefined outside Node. */
export function loadNodePrimitives(): Primitives | undefined {
  if (cached === undefined) {
    const c = nodeCrypto();
    cached = c ? build(c) : null;
  }
  return cached ?? undefined;
}
