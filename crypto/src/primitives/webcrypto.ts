import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { checkCbcArguments, checkCtrArguments } from './cbc.ts';
import { pkcs8X25519, privateKeyFromPkcs8X25519 } from './der.ts';
import { noblePrimitives } from './noble.ts';
import type { Primitives } from './types.ts';

type BufferSourceBytes = Uint8Array<ArrayBuffer>;

/** WebCrypto wants ArrayBuffer-backed views; copy only when given a SharedArrayBuffer view. */
function buf(bytes: Uint8Array): BufferSourceBytes {
  return (bytes.buffer instanceof ArrayBuffer ? bytes : new Uint8Array(bytes)) as BufferSourceBytes;
}

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new CryptoError(CryptoErrorCode.InvalidState, 'WebCrypto (crypto.subtle) is not available');
  return s;
}

let x25519Support: Promise<boolean> | undefined;

/** X25519 in WebCrypto is recent (Chrome 133, Firefox 130, Safari 17, Node 20); detect once. */
function hasWebCryptoX25519(): Promise<boolean> {
  x25519Support ??= subtle()
    .generateKey({ name: 'X25519' }, true, ['deriveBits'])
    .then(
      () => true,
      () => false,
    );
  return x25519Support;
}

/** Runs a WebCrypto step, reporting a platform failure (a DOMException) as the given typed error. */
async function typed<T>(code: CryptoErrorCode, what: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (cause) {
    if (cause instanceof CryptoError) throw cause;
    throw new CryptoError(code, `WebCrypto: ${what}`, { cause });
  }
}

/** Platform WebCrypto (browsers and Node); X25519 falls back to noble where missing. Every failure is a CryptoError. */
export const webCryptoPrimitives: Primitives = {
  name: 'webcrypto',
  async generateX25519() {
    if (!(await hasWebCryptoX25519())) return noblePrimitives.generateX25519();
    return typed(CryptoErrorCode.InvalidState, 'X25519 key generation failed', async () => {
      const pair = (await subtle().generateKey({ name: 'X25519' }, true, ['deriveBits'])) as CryptoKeyPair;
      const pkcs8 = new Uint8Array(await subtle().exportKey('pkcs8', pair.privateKey));
      const publicKey = new Uint8Array(await subtle().exportKey('raw', pair.publicKey));
      // Browsers may hand out the scalar unclamped; X25519 clamps it anyway (RFC 7748 §5), so
      // clamping here changes no result and keeps every private key in the one form
      // the rest of crypto/ stores and checks (keys/curve.ts clampPrivateKey).
      const privateKey = privateKeyFromPkcs8X25519(pkcs8);
      privateKey[0]! &= 248;
      privateKey[31]! &= 127;
      privateKey[31]! |= 64;
      return { privateKey, publicKey };
    });
  },
  async x25519(own, peerPublicKey) {
    if (!(await hasWebCryptoX25519())) return noblePrimitives.x25519(own, peerPublicKey);
    const s = subtle();
    const [priv, pub] = await typed(CryptoErrorCode.InvalidKey, 'X25519 key import failed', () =>
      Promise.all([
        s.importKey('pkcs8', buf(pkcs8X25519(own.privateKey)), { name: 'X25519' }, false, ['deriveBits']),
        s.importKey('raw', buf(peerPublicKey), { name: 'X25519' }, false, []),
      ]),
    );
    try {
      return new Uint8Array(await s.deriveBits({ name: 'X25519', public: pub } as EcdhKeyDeriveParams, priv, 256));
    } catch (cause) {
      throw new CryptoError(CryptoErrorCode.LowOrderPoint, 'X25519 agreement produced no secret', { cause });
    }
  },
  async hmacSha256(key, data) {
    return typed(CryptoErrorCode.InvalidArgument, 'HMAC failed', async () => {
      const k = await subtle().importKey('raw', buf(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      return new Uint8Array(await subtle().sign('HMAC', k, buf(data)));
    });
  },
  async hkdfSha256(ikm, salt, info, length) {
    return typed(CryptoErrorCode.InvalidArgument, 'HKDF failed', async () => {
      const k = await subtle().importKey('raw', buf(ikm), 'HKDF', false, ['deriveBits']);
      const bits = await subtle().deriveBits(
        { name: 'HKDF', hash: 'SHA-256', salt: buf(salt), info: buf(info) },
        k,
        length * 8,
      );
      return new Uint8Array(bits);
    });
  },
  async aesCbcEncrypt(key, iv, plaintext) {
    checkCbcArguments(key, iv);
    return typed(CryptoErrorCode.InvalidArgument, 'AES-CBC encryption failed', async () => {
      const k = await subtle().importKey('raw', buf(key), 'AES-CBC', false, ['encrypt']);
      return new Uint8Array(await subtle().encrypt({ name: 'AES-CBC', iv: buf(iv) }, k, buf(plaintext)));
    });
  },
  async aesCbcDecrypt(key, iv, ciphertext) {
    checkCbcArguments(key, iv, ciphertext);
    const k = await subtle().importKey('raw', buf(key), 'AES-CBC', false, ['decrypt']);
    try {
      return new Uint8Array(await subtle().decrypt({ name: 'AES-CBC', iv: buf(iv) }, k, buf(ciphertext)));
    } catch (cause) {
      throw new CryptoError(CryptoErrorCode.DecryptFailed, 'AES-CBC padding is invalid', { cause });
    }
  },
  async aesCtr(key, iv, data) {
    checkCtrArguments(key, iv);
    return typed(CryptoErrorCode.InvalidArgument, 'AES-CTR failed', async () => {
      const k = await subtle().importKey('raw', buf(key), 'AES-CTR', false, ['encrypt']);
      // length 128: the whole block is the counter, as OpenSSL and libsignal's Ctr128 count.
      return new Uint8Array(await subtle().encrypt({ name: 'AES-CTR', counter: buf(iv), length: 128 }, k, buf(data)));
    });
  },
};
