import { readFileSync } from 'node:fs';
import { ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../src/bytes.ts';
import { dh } from '../src/dh.ts';
import { CryptoError, CryptoErrorCode, deserializePublicKey, xeddsaVerify } from '../src/index.ts';
import { kdfChainKey } from '../src/kdf.ts';
import { clampPrivateKey } from '../src/keys/curve.ts';
import { KemKeyPair } from '../src/keys/kem.ts';
import { ALL_PRIMITIVES } from '../src/testing/primitives.ts';
import { xeddsaVerifyRaw } from '../src/xeddsa.ts';

const load = (name: string) => JSON.parse(readFileSync(new URL(`./vectors/${name}`, import.meta.url), 'utf8'));
const rfc = load('rfc.json');
const x25519Vectors = load('wycheproof-x25519.json');
const gcmVectors = load('wycheproof-aes-gcm.json');
const mlkem = load('ml-kem-1024.json');
const libsignal = load('libsignal.json');
const enc = new TextEncoder();

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

    it('Wycheproof AES-256-GCM: encrypts to ct||tag, decrypts, refuses any flipped bit', async () => {
      for (const t of gcmVectors.tests) {
        const [key, iv, aad, msg] = [fromHex(t.key), fromHex(t.iv), fromHex(t.aad), fromHex(t.msg)];
        const sealed = await p.aesGcmEncrypt(key, iv, msg, aad);
        expect(toHex(sealed), `tcId ${t.tcId}`).toBe(t.ct + t.tag);
        expect(toHex(await p.aesGcmDecrypt(key, iv, sealed, aad))).toBe(t.msg);
        for (const index of [0, sealed.length - 1, Math.floor(sealed.length / 2)]) {
          const bad = sealed.slice();
          bad[index]! ^= 0x80;
          await expect(p.aesGcmDecrypt(key, iv, bad, aad)).rejects.toMatchObject({
            code: CryptoErrorCode.DecryptFailed,
          });
        }
        await expect(p.aesGcmDecrypt(key, iv, sealed, Uint8Array.of(...aad, 1))).rejects.toMatchObject({
          code: CryptoErrorCode.DecryptFailed,
        });
      }
    });

    it("libsignal's agreement and chain-key vectors", async () => {
      const a = libsignal.agreement;
      const alice = { privateKey: fromHex(a.alicePrivate), publicKey: fromHex(a.alicePublic).subarray(1) };
      expect(toHex(await dh(p, alice, deserializePublicKey(fromHex(a.bobPublic))))).toBe(a.shared);
      const bob = { privateKey: fromHex(a.bobPrivate), publicKey: fromHex(a.bobPublic).subarray(1) };
      expect(toHex(await dh(p, bob, deserializePublicKey(fromHex(a.alicePublic))))).toBe(a.shared);

      const c = libsignal.chainKey;
      const step = await kdfChainKey(p, fromHex(c.seed));
      expect(toHex(step.chainKey)).toBe(c.nextChainKey);
      const keys = await p.hkdfSha256(step.messageKey, new Uint8Array(32), enc.encode(c.messageKeysInfo), 80);
      expect(toHex(keys.subarray(0, 32))).toBe(c.cipherKey);
      expect(toHex(keys.subarray(32, 64))).toBe(c.macKey);
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

  it('ML-KEM-1024 (FIPS 203) decapsulation known answer', () => {
    for (const t of mlkem.tests) {
      const { publicKey, secretKey } = ml_kem1024.keygen(fromHex(t.seed));
      const pair = new KemKeyPair(publicKey, secretKey);
      expect(toHex(pair.decapsulate(fromHex(t.ciphertext)))).toBe(t.sharedSecret);
    }
  });
});
