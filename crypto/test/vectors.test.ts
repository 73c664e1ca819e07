import { createCipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../src/bytes.ts';
import { dh } from '../src/dh.ts';
import { CryptoError, CryptoErrorCode, deserializePublicKey, xeddsaVerify } from '../src/index.ts';
import { kdfChainKey, MESSAGE_KEYS_INFO, messageKeys } from '../src/kdf.ts';
import { clampPrivateKey } from '../src/keys/curve.ts';
import { KemKeyPair } from '../src/keys/kem.ts';
import { ALL_PRIMITIVES } from '../src/testing/primitives.ts';
import { xeddsaVerifyRaw } from '../src/xeddsa.ts';

const load = (name: string) => JSON.parse(readFileSync(new URL(`./vectors/${name}`, import.meta.url), 'utf8'));
const rfc = load('rfc.json');
const x25519Vectors = load('wycheproof-x25519.json');
const nist = load('nist-aes-cbc.json');
const nistCtr = load('nist-aes-ctr.json');
const mlkem = load('ml-kem-1024.json');
const libsignal = load('libsignal.json');
const enc = new TextEncoder();

/**
 * NIST's KAT generator randomness (rng.c randombytes_init / randombytes): AES-256 CTR_DRBG
 * without a derivation function, personalization empty, one update after every call.
 */
function nistKatDrbg(seed: Uint8Array): (length: number) => Uint8Array {
  const aes = (key: Uint8Array, block: Uint8Array) => {
    const cipher = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
    return new Uint8Array(Buffer.concat([cipher.update(block), cipher.final()]));
  };
  let key = new Uint8Array(32);
  let v = new Uint8Array(16);
  const increment = () => {
    for (let j = 15; j >= 0; j--) {
      v[j] = (v[j]! + 1) & 0xff;
      if (v[j] !== 0) break;
    }
  };
  const update = (provided?: Uint8Array) => {
    const t = new Uint8Array(48);
    for (let i = 0; i < 3; i++) {
      increment();
      t.set(aes(key, v), 16 * i);
    }
    if (provided) for (let i = 0; i < 48; i++) t[i]! ^= provided[i]!;
    key = t.slice(0, 32);
    v = t.slice(32, 48);
  };
  update(seed);
  return (length) => {
    const out = new Uint8Array(length);
    for (let offset = 0; offset < length; offset += 16) {
      increment();
      out.set(aes(key, v).subarray(0, Math.min(16, length - offset)), offset);
    }
    update();
    return out;
  };
}

async function pairFor(privateHex: string) {
  const privateKey = clampPrivateKey(fromHex(privateHex));
  const { x25519 } = await import('@noble/curves/ed25519.js');
  return { privateKey, publicKey: x25519.getPublicKey(privateKey) };
}

for (const p of ALL_PRIMITIVES) {
  describe(`published vectors with ${p.name} primitives`, () => {
    it('RFC 7748 §5.2 and §6.1', async () => {
      for (const v of rfc.rfc7748.scalarMult) {
        expect(toHex(await p.x25519(await pairFor(v.scalar), fromHex(v.u)))).toBe(v.out);
      }
      const d = rfc.rfc7748.dh;
      expect(toHex((await pairFor(d.alicePrivate)).publicKey)).toBe(d.alicePublic);
      expect(toHex(await dh(p, await pairFor(d.alicePrivate), fromHex(d.bobPublic)))).toBe(d.shared);
      expect(toHex(await dh(p, await pairFor(d.bobPrivate), fromHex(d.alicePublic)))).toBe(d.shared);
    });

    it('Wycheproof X25519: results match; zero shared secrets are refused', async () => {
      for (const t of x25519Vectors.tests) {
        const pair = await pairFor(t.private);
        if (t.flags.includes('ZeroSharedSecret')) {
          await expect(dh(p, pair, fromHex(t.public))).rejects.toMatchObject({ code: CryptoErrorCode.LowOrderPoint });
          expect(() => deserializePublicKey(Uint8Array.of(5, ...fromHex(t.public)))).toThrow(CryptoError);
        } else {
          expect(toHex(await dh(p, pair, fromHex(t.public))), `tcId ${t.tcId}`).toBe(t.shared);
        }
      }
    });

    it('RFC 5869 HKDF-SHA-256', async () => {
      for (const t of rfc.rfc5869.tests) {
        const okm = await p.hkdfSha256(fromHex(t.ikm), fromHex(t.salt), fromHex(t.info), t.length);
        expect(toHex(okm), `case ${t.case}`).toBe(t.okm);
      }
    });

    it('NIST SP 800-38A F.2.5/F.2.6 AES-256-CBC (PKCS#7 adds one block) and RFC 4231 HMAC-SHA-256', async () => {
      const v = nist.cbc;
      const [key, iv, plaintext] = [fromHex(v.key), fromHex(v.iv), fromHex(v.plaintext)];
      const sealed = await p.aesCbcEncrypt(key, iv, plaintext);
      expect(sealed.length).toBe(plaintext.length + 16);
      expect(toHex(sealed.subarray(0, plaintext.length))).toBe(v.ciphertext);
      expect(toHex(await p.aesCbcDecrypt(key, iv, sealed))).toBe(v.plaintext);
      const h = nist.hmac;
      expect(toHex(await p.hmacSha256(fromHex(h.key), fromHex(h.data)))).toBe(h.mac);
    });

    it("NIST SP 800-38A F.5.5/F.5.6 AES-256-CTR and libsignal's zero-counter CTR vector", async () => {
      for (const v of [nistCtr.ctr, nistCtr.libsignalZeroCounter]) {
        const [key, counter] = [fromHex(v.key), fromHex(v.counter)];
        expect(toHex(await p.aesCtr(key, counter, fromHex(v.plaintext)))).toBe(v.ciphertext);
        expect(toHex(await p.aesCtr(key, counter, fromHex(v.ciphertext)))).toBe(v.plaintext);
        expect(toHex(counter)).toBe(v.counter); // the caller's counter block is not advanced in place
      }
      // Any prefix is the prefix of the keystream: CTR has no padding and no block alignment.
      const v = nistCtr.ctr;
      expect(toHex(await p.aesCtr(fromHex(v.key), fromHex(v.counter), fromHex(v.plaintext).subarray(0, 21)))).toBe(
        v.ciphertext.slice(0, 42),
      );
    });

    it("libsignal's agreement and chain-key vectors", async () => {
      const a = libsignal.agreement;
      const alice = { privateKey: fromHex(a.alicePrivate), publicKey: fromHex(a.alicePublic).subarray(1) };
      expect(toHex(await dh(p, alice, deserializePublicKey(fromHex(a.bobPublic))))).toBe(a.shared);
      const bob = { privateKey: fromHex(a.bobPrivate), publicKey: fromHex(a.bobPublic).subarray(1) };
      expect(toHex(await dh(p, bob, deserializePublicKey(fromHex(a.alicePublic))))).toBe(a.shared);

      // crypto/'s own message keys (kdf.ts messageKeys) equal libsignal's published ones.
      const c = libsignal.chainKey;
      const step = await kdfChainKey(p, fromHex(c.seed));
      expect(toHex(step.chainKey)).toBe(c.nextChainKey);
      expect(toHex(MESSAGE_KEYS_INFO)).toBe(toHex(enc.encode(c.messageKeysInfo)));
      const keys = await messageKeys(p, step.messageKey);
      expect(toHex(keys.cipherKey)).toBe(c.cipherKey);
      expect(toHex(keys.macKey)).toBe(c.macKey);
    });
  });
}

describe('signature and KEM vectors', () => {
  it("libsignal's XEdDSA signature verifies (OpenSSL path and noble reference); every 1-bit change fails", () => {
    const s = libsignal.signature;
    const [pub, msg, sig] = [fromHex(s.identityPublic), fromHex(s.message), fromHex(s.signature)];
    expect(xeddsaVerify(pub, msg, sig)).toBe(true);
    expect(xeddsaVerifyRaw(pub.subarray(1), msg, sig, { reference: true })).toBe(true);
    for (let i = 0; i < sig.length; i++) {
      const bad = sig.slice();
      bad[i]! ^= 0x01;
      expect(xeddsaVerify(pub, msg, bad), `byte ${i}`).toBe(false);
      expect(xeddsaVerifyRaw(pub.subarray(1), msg, bad, { reference: true }), `byte ${i}`).toBe(false);
    }
  });

  it("ML-KEM-1024's seed d ‖ z is NIST's KAT DRBG output for count 0 (PQCgenKAT_kem.c, rng.c)", () => {
    const drbg = nistKatDrbg(fromHex(mlkem.nistKatSeed));
    const d = drbg(32);
    const z = drbg(32);
    expect(toHex(d) + toHex(z)).toBe(mlkem.tests[0].seed);
  });

  it('ML-KEM-1024 (FIPS 203) decapsulation known answer', () => {
    for (const t of mlkem.tests) {
      const { publicKey, secretKey } = ml_kem1024.keygen(fromHex(t.seed));
      const pair = new KemKeyPair(publicKey, secretKey);
      expect(toHex(pair.decapsulate(fromHex(t.ciphertext)))).toBe(t.sharedSecret);
    }
  });
});
