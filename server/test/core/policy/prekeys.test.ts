import { describe, expect, it } from 'vitest';
import { bundleOf, checkPreKeyCap, isLow } from '../../../src/core/policy/prekeys.ts';

const ec = (...ids: number[]) => ids.map((keyId) => ({ keyId, publicKey: new Uint8Array(33) }));
const pq = (...ids: number[]) =>
  ids.map((keyId) => ({ keyId, publicKey: new Uint8Array(33), signature: new Uint8Array(64) }));

describe('prekey rules (no store)', () => {
  it('caps one-time prekeys of each kind after the upload, a re-uploaded id counting once', () => {
    const stored = { ec: [1, 2], pq: [7] };
    expect(() => checkPreKeyCap(stored, { oneTimePreKeys: ec(3) }, 3)).not.toThrow();
    expect(() => checkPreKeyCap(stored, { oneTimePreKeys: ec(2, 3, 3) }, 3)).not.toThrow();
    expect(() => checkPreKeyCap(stored, { oneTimePreKeys: ec(3, 4) }, 3)).toThrow(
      expect.objectContaining({
        code: 'FORBIDDEN',
        message: 'a device stores at most 3 one-time prekeys of each kind',
      }),
    );
    expect(() => checkPreKeyCap(stored, { pqOneTimePreKeys: pq(8, 9) }, 3)).not.toThrow();
    expect(() => checkPreKeyCap(stored, { pqOneTimePreKeys: pq(8, 9, 10) }, 3)).toThrow(
      expect.objectContaining({ code: 'FORBIDDEN' }),
    );
    // Counted after the upload: a device already above a lowered cap uploads no more one-time keys.
    expect(() => checkPreKeyCap({ ec: [1, 2, 3, 4], pq: [] }, {}, 3)).toThrow(
      expect.objectContaining({ code: 'FORBIDDEN' }),
    );
  });

  it('bundles a one-time PQ prekey while any remain, else the last-resort one', () => {
    const base = {
      deviceId: 2,
      identityKey: new Uint8Array(33),
      signedPreKey: pq(1)[0]!,
      pqLastResortPreKey: pq(2)[0]!,
      remaining: { oneTimePreKeys: 0, pqOneTimePreKeys: 0 },
    };
    expect(bundleOf({ ...base, pqOneTimePreKey: pq(20)[0]!, oneTimePreKey: ec(10)[0]! })).toMatchObject({
      deviceId: 2,
      pqPreKey: { keyId: 20 },
      pqPreKeyIsLastResort: false,
      oneTimePreKey: { keyId: 10 },
    });
    const last = bundleOf(base);
    expect(last).toMatchObject({ pqPreKey: { keyId: 2 }, pqPreKeyIsLastResort: true, signedPreKey: { keyId: 1 } });
    expect(last.oneTimePreKey).toBeUndefined();
  });

  it('is low when either kind is below the threshold', () => {
    expect(isLow({ oneTimePreKeys: 2, pqOneTimePreKeys: 2 }, 2)).toBe(false);
    expect(isLow({ oneTimePreKeys: 1, pqOneTimePreKeys: 5 }, 2)).toBe(true);
    expect(isLow({ oneTimePreKeys: 5, pqOneTimePreKeys: 1 }, 2)).toBe(true);
  });
});
