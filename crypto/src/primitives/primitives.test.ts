import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../bytes.ts';
import { ALL_PRIMITIVES } from '../testing/primitives.ts';
import { noblePrimitives, resolvePrimitives, webCryptoPrimitives } from './index.ts';

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
