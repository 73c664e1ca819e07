import { inspect } from 'node:util';
import { IdentityKeyPair as LsIdentityKeyPair, PrivateKey, PublicKey } from '@signalapp/libsignal-client';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CryptoError,
  CryptoErrorCode,
  deserializePublicKey,
  generateIdentityKeyPair,
  IdentityKeyPair,
  xeddsaSign,
  xeddsaVerify,
} from '../src/index.ts';
import { xeddsaVerifyRaw } from '../src/xeddsa.ts';

const enc = new TextEncoder();

function ab(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes) as Uint8Array<ArrayBuffer>;
}

describe('identity keys and XEdDSA (differential with libsignal-client)', () => {
  it('libsignal verifies signatures made here', () => {
    for (let i = 0; i < 20; i++) {
      const ours = generateIdentityKeyPair();
      const message = enc.encode(`message ${i}`);
      const signature = xeddsaSign(ours, message);
      expect(signature.length).toBe(64);
      const theirView = PublicKey.deserialize(ab(ours.publicKey));
      expect(theirView.verify(ab(message), ab(signature))).toBe(true);
      expect(theirView.verify(ab(enc.encode('other')), ab(signature))).toBe(false);
    }
  });

  it('verifies signatures made by libsignal', () => {
    for (let i = 0; i < 20; i++) {
      const theirs = PrivateKey.generate();
      const message = enc.encode(`libsignal message ${i}`);
      const signature = theirs.sign(ab(message));
      const pub = theirs.getPublicKey().serialize();
      expect(pub.length).toBe(33);
      expect(pub[0]).toBe(0x05);
      expect(xeddsaVerify(pub, message, signature)).toBe(true);
      const flipped = signature.slice();
      flipped[10]! ^= 1;
      expect(xeddsaVerify(pub, message, flipped)).toBe(false);
    }
  });

  it('derives the same public key as libsignal from a private key, and both serializations interoperate', () => {
    for (let i = 0; i < 10; i++) {
      const theirs = LsIdentityKeyPair.generate();
      const ours = IdentityKeyPair.fromPrivateKey(theirs.privateKey.serialize());
      expect(ours.publicKey).toEqual(theirs.publicKey.serialize());
      expect(IdentityKeyPair.deserialize(theirs.serialize()).publicKey).toEqual(ours.publicKey);
      const back = LsIdentityKeyPair.deserialize(ab(ours.serialize()));
      expect(back.publicKey.serialize()).toEqual(ours.publicKey);
    }
  });

  it('a signature covering the sign bit: flipping the top bit of the last byte breaks it', () => {
    const ours = generateIdentityKeyPair();
    const message = enc.encode('bit');
    const signature = ours.sign(message);
    const flipped = signature.slice();
    flipped[63]! ^= 0x80;
    expect(xeddsaVerify(ours.publicKey, message, signature)).toBe(true);
    expect(xeddsaVerify(ours.publicKey, message, flipped)).toBe(false);
  });

  it('verify returns false (never throws) on malformed input', () => {
    const ours = generateIdentityKeyPair();
    const message = enc.encode('m');
    const signature = ours.sign(message);
    const bad: Array<[Uint8Array, Uint8Array, Uint8Array]> = [
      [ours.publicKey.subarray(1), message, signature],
      [new Uint8Array(33), message, signature],
      [Uint8Array.of(0x06, ...ours.publicKey.subarray(1)), message, signature],
      [ours.publicKey, message, signature.subarray(0, 63)],
      [ours.publicKey, message, new Uint8Array(64)],
      [ours.publicKey, message, new Uint8Array(64).fill(0xff)],
    ];
    for (const [pk, m, s] of bad) expect(xeddsaVerify(pk, m, s)).toBe(false);
    expect(xeddsaVerify('x' as unknown as Uint8Array, message, signature)).toBe(false);
  });

  it('rejects malformed and low-order public keys with typed errors', () => {
    const lowOrder = Uint8Array.of(0x05, ...new Uint8Array(32));
    const code = (c: CryptoErrorCode) => expect.objectContaining({ name: 'CryptoError', code: c });
    expect(() => deserializePublicKey(lowOrder)).toThrow(code(CryptoErrorCode.LowOrderPoint));
    expect(() => deserializePublicKey(new Uint8Array(5))).toThrow(code(CryptoErrorCode.InvalidKey));
    expect(() => deserializePublicKey(Uint8Array.of(0x06, ...new Uint8Array(32).fill(9)))).toThrow(
      code(CryptoErrorCode.InvalidKey),
    );
    expect(() => IdentityKeyPair.fromPrivateKey(new Uint8Array(31))).toThrow(CryptoError);
  });

  it('identity.keyPair is a copy: changing its arrays changes neither the identity nor its signatures', () => {
    const identity = generateIdentityKeyPair();
    const before = identity.serialize();
    const handed = identity.keyPair;
    handed.exportBytes().privateKey.fill(0);
    handed.exportBytes().publicKey.fill(0);
    handed.publicKey.fill(0);
    expect(identity.keyPair).not.toBe(handed);
    expect(identity.serialize()).toEqual(before);
    const message = new TextEncoder().encode('still mine');
    expect(xeddsaVerify(identity.publicKey, message, identity.sign(message))).toBe(true);
  });

  it('never prints the private key', () => {
    const ours = generateIdentityKeyPair();
    const priv = ours.serialize().subarray(37);
    const hex = Buffer.from(priv).toString('hex');
    expect(JSON.stringify({ ours })).not.toContain(hex);
    expect(inspect(ours, { showHidden: true, depth: 5 })).not.toContain(hex);
    expect(inspect(ours)).toContain('redacted');
  });

  it('the OpenSSL verification path and the noble reference agree, on valid and mutated signatures', () => {
    const identity = generateIdentityKeyPair();
    const u = identity.publicKey.subarray(1);
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        fc.boolean(),
        (m, at, bit, mutate) => {
          const signature = identity.sign(m);
          if (mutate) signature[at % 64]! ^= 1 << bit;
          const fast = xeddsaVerifyRaw(u, m, signature);
          expect(xeddsaVerifyRaw(u, m, signature, { reference: true })).toBe(fast);
          if (!mutate) expect(fast).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });
});
