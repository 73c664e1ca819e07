/**
 * Node's fast path: node:crypto (OpenSSL) for X25519, AES-256-CBC/CTR, HMAC and HKDF, and
 * Ed25519 verification for XEdDSA. Reached through process.getBuiltinModule (Node ≥ 20.16)
 * rather than an import, so this file is harmless in a browser bundle: there
 * `loadNodePrimitives()` is undefined.
 */
import type * as NodeCrypto from 'node:crypto';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { checkCbcArguments, checkCtrArguments } from './cbc.ts';
import type { Primitives } from './types.ts';

type NodeProcess = { getBuiltinModule?: (id: string) => unknown };

function nodeCrypto(): typeof NodeCrypto | undefined {
  const proc = (globalThis as { process?: NodeProcess }).process;
  if (typeof proc?.getBuiltinModule !== 'function') return undefined;
  return proc.getBuiltinModule('node:crypto') as typeof NodeCrypto | undefined;
}

function u8(buffer: Uint8Array): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

const b64u = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
const unb64u = (text: string | undefined) => u8(Buffer.from(text ?? '', 'base64url'));

/** RFC 8410 PKCS#8 wrapper of a raw X25519 private key (primitives/der.ts has the same bytes), as hex: Buffer exists only in Node. */
const PKCS8_PREFIX_HEX = '302e020100300506032b656e04220420';

function build(c: typeof NodeCrypto): Primitives {
  // Imported private keys, keyed by the caller's private-key array: ratchet and identity
  // keys are used for several agreements, and an import costs as much as the DH itself.
  const imported = new WeakMap<Uint8Array, NodeCrypto.KeyObject>();
  // Peer keys too: a DH ratchet step agrees twice with the same remote ratchet key.
  const importedPeers = new WeakMap<Uint8Array, NodeCrypto.KeyObject>();
  const privateKeyObject = (own: { privateKey: Uint8Array; publicKey: Uint8Array }) => {
    let key = imported.get(own.privateKey);
    if (!key) {
      // JWK with both halves: DER/PKCS#8 import recomputes the public key (10× slower).
      key = c.createPrivateKey({
        key: { kty: 'OKP', crv: 'X25519', d: b64u(own.privateKey), x: b64u(own.publicKey) },
        format: 'jwk',
      });
      imported.set(own.privateKey, key);
    }
    return key;
  };
  return {
    name: 'node',
    async generateX25519() {
      const pair = c.generateKeyPairSync('x25519');
      const jwk = pair.privateKey.export({ format: 'jwk' });
      const privateKey = unb64u(jwk.d);
      imported.set(privateKey, pair.privateKey);
      return { privateKey, publicKey: unb64u(jwk.x) };
    },
    async x25519(own, peerPublicKey) {
      try {
        const privateKey = privateKeyObject(own);
        let publicKey = importedPeers.get(peerPublicKey);
        if (!publicKey) {
          publicKey = c.createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64u(peerPublicKey) }, format: 'jwk' });
          importedPeers.set(peerPublicKey, publicKey);
        }
        return u8(c.diffieHellman({ privateKey, publicKey }));
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
    async aesCbcEncrypt(key, iv, plaintext) {
      checkCbcArguments(key, iv);
      const cipher = c.createCipheriv('aes-256-cbc', key, iv);
      return u8(Buffer.concat([cipher.update(plaintext), cipher.final()]));
    },
    async aesCbcDecrypt(key, iv, ciphertext) {
      checkCbcArguments(key, iv, ciphertext);
      try {
        const decipher = c.createDecipheriv('aes-256-cbc', key, iv);
        return u8(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
      } catch (cause) {
        throw new CryptoError(CryptoErrorCode.DecryptFailed, 'AES-CBC padding is invalid', { cause });
      }
    },
    async aesCtr(key, iv, data) {
      checkCtrArguments(key, iv);
      // OpenSSL's aes-256-ctr counts with the whole 128-bit block, big-endian.
      const cipher = c.createCipheriv('aes-256-ctr', key, iv);
      return u8(Buffer.concat([cipher.update(data), cipher.final()]));
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

export type Ed25519Verify = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean;
let cachedVerify: Ed25519Verify | null | undefined;

/**
 * Synchronous RFC 8032 Ed25519 verification by OpenSSL, or undefined outside Node.
 * XEdDSA's verification equation is Ed25519's once the Edwards key is rebuilt (§3.3).
 */
export function loadNodeEd25519Verify(): Ed25519Verify | undefined {
  if (cachedVerify === undefined) {
    const c = nodeCrypto();
    // A signer's Edwards key (sign bit included) is the same in all its signatures, so the
    // imported key is reused: a bundle's two prekey signatures, a sender's group messages.
    const keys = new Map<string, NodeCrypto.KeyObject>();
    cachedVerify = c
      ? (publicKey, message, signature) => {
          const x = b64u(publicKey);
          let key = keys.get(x);
          if (!key) {
            key = c.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
            if (keys.size >= 256) keys.delete(keys.keys().next().value as string);
            keys.set(x, key);
          }
          return c.verify(null, message, key, signature);
        }
      : null;
  }
  return cachedVerify ?? undefined;
}

export type Sha512 = (data: Uint8Array) => Uint8Array;
let cachedSha512: Sha512 | null | undefined;

/** Synchronous SHA-512 by OpenSSL (safety numbers hash 10,400 times), or undefined outside Node. */
export function loadNodeSha512(): Sha512 | undefined {
  if (cachedSha512 === undefined) {
    const c = nodeCrypto();
    cachedSha512 = c ? (data) => u8(c.createHash('sha512').update(data).digest()) : null;
  }
  return cachedSha512 ?? undefined;
}

export type X25519PublicKeyOf = (clampedPrivateKey: Uint8Array) => Uint8Array;
let cachedPublicKeyOf: X25519PublicKeyOf | null | undefined;

/**
 * Synchronous X25519 public key of a private key by OpenSSL (≈3× noble), or undefined
 * outside Node: restoring state checks every stored key pair's halves against each other.
 */
export function loadNodeX25519PublicKeyOf(): X25519PublicKeyOf | undefined {
  if (cachedPublicKeyOf === undefined) {
    const c = nodeCrypto();
    cachedPublicKeyOf = c
      ? (privateKey) => {
          const key = c.createPrivateKey({
            key: Buffer.concat([Buffer.from(PKCS8_PREFIX_HEX, 'hex'), privateKey]),
            format: 'der',
            type: 'pkcs8',
          });
          return unb64u(c.createPublicKey(key).export({ format: 'jwk' }).x);
        }
      : null;
  }
  return cachedPublicKeyOf ?? undefined;
}
