import { describe, expect, it } from 'vitest';
import { toHex } from './bytes.ts';
import { CryptoError } from './errors.ts';
import { generateIdentityKeyPair } from './keys/identity.ts';
import { generateOneTimePreKeys, generatePqPreKey, generateSignedPreKey } from './keys/prekeys.ts';
import { InMemoryPrekeyStore } from './store.ts';

const baseKey = (n: number) => new Uint8Array(32).fill(n);

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

  it('refuses a base key twice; remembers them in order, forgetting the oldest past the limit', () => {
    const store = new InMemoryPrekeyStore({ maxUsedBaseKeys: 3 });
    expect(store.markBaseKeyUsed(baseKey(1))).toBe(true);
    expect(store.markBaseKeyUsed(baseKey(1))).toBe(false);
    for (const n of [2, 3, 4]) expect(store.markBaseKeyUsed(baseKey(n))).toBe(true);
    expect(store.usedBaseKeys().map(toHex)).toEqual([2, 3, 4].map((n) => toHex(baseKey(n))));
    // The oldest was forgotten, so it would be accepted again; the others are still refused.
    expect(store.markBaseKeyUsed(baseKey(3))).toBe(false);
    expect(store.markBaseKeyUsed(baseKey(1))).toBe(true);
    expect(() => new InMemoryPrekeyStore({ maxUsedBaseKeys: 0 })).toThrow(CryptoError);
  });

  it('restores saved base keys, which stay refused; by default it forgets none', () => {
    const first = new InMemoryPrekeyStore();
    for (let n = 0; n < 50; n++) first.markBaseKeyUsed(baseKey(n));
    const saved = first.usedBaseKeys();
    expect(saved.length).toBe(50);
    // The same arrays each time while remembered, so a caller may cache their encoding.
    expect(first.usedBaseKeys()[7]).toBe(saved[7]);

    const restored = new InMemoryPrekeyStore().addUsedBaseKeys(saved.map((k) => k.slice()));
    expect(restored.usedBaseKeys().map(toHex)).toEqual(saved.map(toHex));
    expect(restored.markBaseKeyUsed(baseKey(0))).toBe(false);
    expect(restored.markBaseKeyUsed(baseKey(49))).toBe(false);
    // The store keeps its own copy: changing the caller's array changes nothing.
    const caller = baseKey(200);
    restored.markBaseKeyUsed(caller);
    caller.fill(0);
    expect(restored.markBaseKeyUsed(baseKey(200))).toBe(false);
  });
});
