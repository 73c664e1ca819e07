import { describe, expect, it } from 'vitest';
import { CryptoError } from './errors.ts';
import { generateIdentityKeyPair } from './keys/identity.ts';
import { generateOneTimePreKeys, generatePqPreKey, generateSignedPreKey } from './keys/prekeys.ts';
import { deserializePreKeyUse, InMemoryPrekeyStore, serializePreKeyUse } from './store.ts';

/** A distinct 32-byte base key per n (n < 65,536). */
const baseKey = (n: number) => Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? n & 0xff : i === 1 ? n >> 8 : 7));

describe('InMemoryPrekeyStore', () => {
  it('holds, serves and removes each kind of prekey', () => {
    const identity = generateIdentityKeyPair();
    const store = new InMemoryPrekeyStore()
      .addSignedPreKey(generateSignedPreKey(identity, 1))
      .addSignedPreKey(generateSignedPreKey(identity, 2))
      .addOneTimePreKeys(generateOneTimePreKeys(10, 3))
      .addPqPreKey(generatePqPreKey(identity, 20));
    expect(store.getSignedPreKey(2)?.keyId).toBe(2);
    expect(store.getOneTimePreKey(11)?.keyId).toBe(11);
    expect(store.getPqPreKey(20)?.lastResort).toBe(false);
    store.removeSignedPreKey(1);
    store.removeOneTimePreKey(11);
    store.removePqPreKey(20);
    expect(store.getSignedPreKey(1)).toBeUndefined();
    expect(store.getSignedPreKey(2)).toBeDefined();
    expect([...store.oneTimePreKeys.keys()]).toEqual([10, 12]);
    expect(store.getPqPreKey(20)).toBeUndefined();
  });

  it('refuses a base key twice, and forgets an entry only when its signed or PQ prekey is removed', () => {
    const store = new InMemoryPrekeyStore();
    const use = (n: number, signedPreKeyId: number, pqPreKeyId?: number) => ({
      signedPreKeyId,
      pqPreKeyId,
      baseKey: baseKey(n),
    });
    expect(store.markPreKeysUsed(use(1, 1, 100))).toBe(true);
    expect(store.markPreKeysUsed(use(1, 1, 100))).toBe(false);
    // Refused by base key whatever ids a replay claims.
    expect(store.markPreKeysUsed(use(1, 2))).toBe(false);
    for (let n = 2; n < 3000; n++) expect(store.markPreKeysUsed(use(n, n % 2 === 0 ? 1 : 2, 100))).toBe(true);
    // No count limit: 3,000 entries, none forgotten.
    expect(store.usedPreKeys().length).toBe(2999);
    expect(store.markPreKeysUsed(use(1, 1, 100))).toBe(false);
    expect(store.markPreKeysUsed(use(2, 1, 100))).toBe(false);
    // Rotating signed prekey 2 forgets exactly the entries that name it.
    store.removeSignedPreKey(2);
    expect(store.usedPreKeys().every((u) => u.signedPreKeyId === 1)).toBe(true);
    expect(store.markPreKeysUsed(use(3, 1, 100))).toBe(true);
    expect(store.markPreKeysUsed(use(2, 1, 100))).toBe(false);
    // Rotating the last-resort PQ key forgets the rest.
    store.removePqPreKey(100);
    expect(store.usedPreKeys()).toEqual([]);
    expect(() =>
      store.markPreKeysUsed({ signedPreKeyId: 1, pqPreKeyId: undefined, baseKey: new Uint8Array(31) }),
    ).toThrow(CryptoError);
  });

  it('restores saved entries (serializePreKeyUse), which stay refused; keeps its own copies', () => {
    const first = new InMemoryPrekeyStore();
    for (let n = 0; n < 50; n++)
      first.markPreKeysUsed({ signedPreKeyId: 7, pqPreKeyId: n % 2 ? 9 : undefined, baseKey: baseKey(n) });
    const saved = first.usedPreKeys();
    expect(saved.length).toBe(50);
    // The same objects each time while remembered, so a caller may cache their encoding.
    expect(first.usedPreKeys()[7]).toBe(saved[7]);
    const bytes = saved.map(serializePreKeyUse);
    expect(bytes[0]!.length).toBe(1 + 4 + 1 + 32);
    expect(bytes[1]!.length).toBe(1 + 4 + 1 + 4 + 32);

    const restored = new InMemoryPrekeyStore().addUsedPreKeys(bytes.map(deserializePreKeyUse));
    expect(restored.usedPreKeys()).toEqual(saved);
    expect(restored.markPreKeysUsed({ signedPreKeyId: 7, pqPreKeyId: undefined, baseKey: baseKey(0) })).toBe(false);
    expect(restored.markPreKeysUsed({ signedPreKeyId: 7, pqPreKeyId: 9, baseKey: baseKey(49) })).toBe(false);
    const caller = baseKey(200);
    restored.markPreKeysUsed({ signedPreKeyId: 7, pqPreKeyId: undefined, baseKey: caller });
    caller.fill(0);
    expect(restored.markPreKeysUsed({ signedPreKeyId: 7, pqPreKeyId: undefined, baseKey: baseKey(200) })).toBe(false);
    for (const bad of [
      Uint8Array.of(2, ...bytes[0]!.subarray(1)),
      bytes[0]!.subarray(0, 20),
      Uint8Array.of(...bytes[0]!.subarray(0, 5), 2, ...bytes[0]!.subarray(6)),
    ]) {
      expect(() => deserializePreKeyUse(bad)).toThrow(CryptoError);
    }
  });
});
