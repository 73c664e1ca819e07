import { Fingerprint, PrivateKey, PublicKey } from '@signalapp/libsignal-client';
import { describe, expect, it } from 'vitest';
import { CryptoError, generateIdentityKeyPair, safetyNumber } from '../src/index.ts';

const ab = (b: Uint8Array) => new Uint8Array(b) as Uint8Array<ArrayBuffer>;
const enc = (s: string) => new TextEncoder().encode(s);

describe('safety numbers equal libsignal Fingerprint.displayableFingerprint()', () => {
  it('matches for random keys and identifiers, from both sides', () => {
    for (let i = 0; i < 4; i++) {
      const alice = generateIdentityKeyPair();
      const bobKey = PrivateKey.generate().getPublicKey().serialize();
      const aliceId = enc(`+1415555${1000 + i}`);
      const bobId = crypto.getRandomValues(new Uint8Array(17));
      const theirs = Fingerprint.new(
        5200,
        2,
        ab(aliceId),
        PublicKey.deserialize(ab(alice.publicKey)),
        ab(bobId),
        PublicKey.deserialize(ab(bobKey)),
      )
        .displayableFingerprint()
        .toString();
      const ours = safetyNumber(
        { identifier: aliceId, identityKey: alice.publicKey },
        { identifier: bobId, identityKey: bobKey },
      );
      expect(ours).toMatch(/^\d{60}$/);
      expect(ours).toBe(theirs);
      expect(
        safetyNumber({ identifier: bobId, identityKey: bobKey }, { identifier: aliceId, identityKey: alice.publicKey }),
      ).toBe(ours);
    }
  });

  it('changes when a key changes, and rejects bad keys', () => {
    const a = generateIdentityKeyPair();
    const b = generateIdentityKeyPair();
    const c = generateIdentityKeyPair();
    const id = enc('x');
    expect(
      safetyNumber({ identifier: id, identityKey: a.publicKey }, { identifier: enc('y'), identityKey: b.publicKey }),
    ).not.toBe(
      safetyNumber({ identifier: id, identityKey: a.publicKey }, { identifier: enc('y'), identityKey: c.publicKey }),
    );
    expect(() =>
      safetyNumber({ identifier: id, identityKey: new Uint8Array(33) }, { identifier: id, identityKey: b.publicKey }),
    ).toThrow(CryptoError);
  });
});
