import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../bytes.ts';
import { CryptoErrorCode } from '../errors.ts';
import { ALL_PRIMITIVES } from '../testing/primitives.ts';
import { pkcs8X25519, privateKeyFromPkcs8X25519 } from './der.ts';
import { noblePrimitives, resolvePrimitives, webCryptoPrimitives } from './index.ts';

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });

describe('platform primitives agree with the noble reference', () => {
  it('all three implementations are present in Node', () => {
    expect(ALL_PRIMITIVES.map((p) => p.name)).toEqual(['noble', 'webcrypto', 'node']);
  });

  for (const p of ALL_PRIMITIVES.filter((q) => q !== noblePrimitives)) {
    it(`${p.name}: HMAC, HKDF, AES-256-CBC equal noble on random inputs`, async () => {
      await fc.assert(
        fc.asyncProperty(bytes(32, 32), bytes(0, 300), bytes(0, 40), bytes(16, 16), async (key, data, extra, iv) => {
          expect(toHex(await p.hmacSha256(key, data))).toBe(toHex(await noblePrimitives.hmacSha256(key, data)));
          expect(toHex(await p.hkdfSha256(data, extra, key, 80))).toBe(
            toHex(await noblePrimitives.hkdfSha256(data, extra, key, 80)),
          );
          const sealed = await p.aesCbcEncrypt(key, iv, data);
          expect(sealed.length).toBe((Math.floor(data.length / 16) + 1) * 16);
          expect(toHex(sealed)).toBe(toHex(await noblePrimitives.aesCbcEncrypt(key, iv, data)));
          expect(toHex(await noblePrimitives.aesCbcDecrypt(key, iv, sealed))).toBe(toHex(data));
          expect(toHex(await p.aesCbcDecrypt(key, iv, sealed))).toBe(toHex(data));
        }),
        { numRuns: 50 },
      );
    });

    it(`${p.name}: AES-256-CTR equals noble on random inputs, including a counter that wraps past 2^128 - 1`, async () => {
      const wrapping = fc.constantFrom(new Uint8Array(16).fill(0xff), Uint8Array.of(...new Uint8Array(15), 0xfe));
      await fc.assert(
        fc.asyncProperty(bytes(32, 32), fc.oneof(bytes(16, 16), wrapping), bytes(0, 300), async (key, iv, data) => {
          const out = await p.aesCtr(key, iv, data);
          expect(out.length).toBe(data.length);
          expect(toHex(out)).toBe(toHex(await noblePrimitives.aesCtr(key, iv, data)));
          expect(toHex(await p.aesCtr(key, iv, out))).toBe(toHex(data));
        }),
        { numRuns: 50 },
      );
    });

    it(`${p.name}: generated X25519 key pairs and agreements equal noble's`, async () => {
      for (let i = 0; i < 10; i++) {
        const a = await p.generateX25519();
        const b = await noblePrimitives.generateX25519();
        const { x25519 } = await import('@noble/curves/ed25519.js');
        expect(toHex(x25519.getPublicKey(a.privateKey))).toBe(toHex(a.publicKey));
        expect(toHex(await p.x25519(a, b.publicKey))).toBe(toHex(await noblePrimitives.x25519(b, a.publicKey)));
      }
    });
  }
});

describe('AES-256-CBC refuses bad input alike on every path, with typed errors', () => {
  for (const p of ALL_PRIMITIVES) {
    it(`${p.name}: wrong key or IV length, a ciphertext not a positive number of blocks, bad padding`, async () => {
      const key = new Uint8Array(32).fill(1);
      const iv = new Uint8Array(16).fill(2);
      await expect(p.aesCbcEncrypt(new Uint8Array(16), iv, new Uint8Array(3))).rejects.toMatchObject({
        code: CryptoErrorCode.InvalidKey,
      });
      await expect(p.aesCbcEncrypt(key, new Uint8Array(12), new Uint8Array(3))).rejects.toMatchObject({
        code: CryptoErrorCode.InvalidArgument,
      });
      for (const length of [0, 15, 17]) {
        await expect(p.aesCbcDecrypt(key, iv, new Uint8Array(length))).rejects.toMatchObject({
          code: CryptoErrorCode.DecryptFailed,
        });
      }
      // Flipping a bit of block 1 flips the same bit of block 2's plaintext: its padding byte 0x01 becomes 0x21.
      const two = await noblePrimitives.aesCbcEncrypt(key, iv, new Uint8Array(31));
      const tampered = two.slice();
      tampered[15]! ^= 0x20;
      await expect(p.aesCbcDecrypt(key, iv, tampered)).rejects.toMatchObject({ code: CryptoErrorCode.DecryptFailed });
    });
  }
});

describe('AES-256-CTR refuses a wrong key or counter-block length alike on every path', () => {
  for (const p of ALL_PRIMITIVES) {
    it(`${p.name}: CRYPTO_INVALID_KEY for a 16-byte key, CRYPTO_INVALID_ARGUMENT for a 12-byte counter`, async () => {
      await expect(p.aesCtr(new Uint8Array(16), new Uint8Array(16), new Uint8Array(3))).rejects.toMatchObject({
        code: CryptoErrorCode.InvalidKey,
      });
      await expect(p.aesCtr(new Uint8Array(32), new Uint8Array(12), new Uint8Array(3))).rejects.toMatchObject({
        code: CryptoErrorCode.InvalidArgument,
      });
    });
  }
});

describe('WebCrypto PKCS#8 unwrapping checks prefix and length', () => {
  it('takes the key out of the exact RFC 8410 form and refuses anything else as CRYPTO_INVALID_KEY', () => {
    const key = new Uint8Array(32).fill(9);
    expect(toHex(privateKeyFromPkcs8X25519(pkcs8X25519(key)))).toBe(toHex(key));
    const good = pkcs8X25519(key);
    const withPublicKey = Uint8Array.of(...good, 0x81, 0x21, 0x00, ...new Uint8Array(32)); // RFC 5958 v2 tail
    const otherAlgorithm = good.slice();
    otherAlgorithm[11] = 0x70; // id-Ed25519 (1.3.101.112) instead of id-X25519 (1.3.101.110)
    for (const bad of [good.subarray(0, 47), withPublicKey, otherAlgorithm, new Uint8Array(48)]) {
      expect(() => privateKeyFromPkcs8X25519(bad)).toThrow(
        expect.objectContaining({ code: CryptoErrorCode.InvalidKey }),
      );
    }
  });
});

describe('WebCrypto failures surface as CryptoError', () => {
  it('a key the platform cannot import, or an HKDF length it refuses, is a typed error, never a DOMException', async () => {
    const own = await webCryptoPrimitives.generateX25519();
    await expect(webCryptoPrimitives.x25519(own, new Uint8Array(31))).rejects.toMatchObject({
      name: 'CryptoError',
      code: CryptoErrorCode.InvalidKey,
    });
    await expect(
      webCryptoPrimitives.hkdfSha256(new Uint8Array(32), new Uint8Array(32), new Uint8Array(0), 255 * 32 + 1),
    ).rejects.toMatchObject({
      name: 'CryptoError',
      code: CryptoErrorCode.InvalidArgument,
    });
  });
});

describe('choosing the platform path (public API)', () => {
  it('primitivesByName gives one handle per path, refuses unknown names; raw primitives are not exported', async () => {
    const api = await import('../index.ts');
    for (const name of ['node', 'webcrypto', 'noble'] as const) {
      const handle = api.primitivesByName(name);
      expect(handle.name).toBe(name);
      expect(api.primitivesByName(name)).toBe(handle);
      expect(Object.isFrozen(handle)).toBe(true);
    }
    expect(() => api.primitivesByName('openssl' as never)).toThrow(api.CryptoError);
    for (const name of ['noblePrimitives', 'webCryptoPrimitives', 'loadNodePrimitives', 'getPrimitives', 'dh']) {
      expect(name in api).toBe(false);
    }
    // Nothing process-wide to set: the old global switch is gone.
    for (const name of ['usePrimitives', 'primitivesInUse', 'setPrimitives']) expect(name in api).toBe(false);
  });

  it("the default is the platform's best (node:crypto in Node); a handle not made here is refused", async () => {
    const api = await import('../index.ts');
    expect(api.defaultPrimitives()).toBe(api.primitivesByName('node'));
    expect(resolvePrimitives(undefined).name).toBe('node');
    expect(resolvePrimitives(api.primitivesByName('webcrypto'))).toBe(webCryptoPrimitives);
    const forged = Object.freeze({ name: 'noble' as const });
    expect(() => resolvePrimitives(forged)).toThrow(api.CryptoError);
    expect(() => new api.SessionRecord({ primitives: forged })).toThrow(api.CryptoError);
    expect(() => api.SenderKeyRecord.createForSending(undefined, { primitives: forged })).toThrow(api.CryptoError);
  });
});
