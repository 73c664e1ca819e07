import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../src/bytes.ts';
import { noblePrimitives } from '../src/primitives/index.ts';
import { ALL_PRIMITIVES } from './primitives-cases.ts';

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });

describe('platform primitives agree with the noble reference', () => {
  it('all three implementations are present in Node', () => {
    expect(ALL_PRIMITIVES.map((p) => p.name)).toEqual(['noble', 'webcrypto', 'node']);
  });

  for (const p of ALL_PRIMITIVES.filter((q) => q !== noblePrimitives)) {
    it(`${p.name}: HMAC, HKDF, AES-GCM equal noble on random inputs`, async () => {
      await fc.assert(
        fc.asyncProperty(bytes(32, 32), bytes(0, 300), bytes(0, 40), bytes(12, 12), async (key, data, extra, nonce) => {
          expect(toHex(await p.hmacSha256(key, data))).toBe(toHex(await noblePrimitives.hmacSha256(key, data)));
          expect(toHex(await p.hkdfSha256(data, extra, key, 80))).toBe(
            toHex(await noblePrimitives.hkdfSha256(data, extra, key, 80)),
          );
          const sealed = await p.aesGcmEncrypt(key, nonce, data, extra);
          expect(toHex(sealed)).toBe(toHex(await noblePrimitives.aesGcmEncrypt(key, nonce, data, extra)));
          expect(toHex(await noblePrimitives.aesGcmDecrypt(key, nonce, sealed, extra))).toBe(toHex(data));
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

describe('choosing the platform path (public API)', () => {
  it('usePrimitives selects by name, refuses unknown names, and raw primitives are not exported', async () => {
    const api = await import('../src/index.ts');
    const before = api.primitivesInUse();
    try {
      api.usePrimitives('noble');
      expect(api.primitivesInUse()).toBe('noble');
      api.usePrimitives('webcrypto');
      expect(api.primitivesInUse()).toBe('webcrypto');
      expect(() => api.usePrimitives('openssl' as never)).toThrow(api.CryptoError);
      for (const name of ['noblePrimitives', 'webCryptoPrimitives', 'loadNodePrimitives', 'getPrimitives', 'dh']) {
        expect(name in api).toBe(false);
      }
    } finally {
      api.usePrimitives(before);
    }
  });
});
