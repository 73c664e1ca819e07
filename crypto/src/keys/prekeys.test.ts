import { sha256 } from '@noble/hashes/sha2.js';
import { ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { describe, expect, it } from 'vitest';
import { toHex } from '../bytes.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { KeyPair } from './curve.ts';
import { generateIdentityKeyPair, xeddsaVerify } from './identity.ts';
import { KemKeyPair } from './kem.ts';
import {
  generateOneTimePreKeys,
  generatePqPreKey,
  generateSignedPreKey,
  OneTimePreKey,
  PqPreKey,
  SignedPreKey,
} from './prekeys.ts';

/** Bytes 0..n-1 counting up from `start`: fixed key material, so the stored forms below are fixed too. */
const counting = (n: number, start: number) => new Uint8Array(n).map((_, i) => (start + i) & 0xff);

describe('prekeys: stored forms', () => {
  // Written by the code before the three kinds shared a base class: stored prekeys must still load.
  it('serialize to the bytes they always had, and load them back', () => {
    const oneTime = new OneTimePreKey(7, new KeyPair(counting(32, 1)));
    const oneTimeBytes = '01000000070002030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f60';
    expect(toHex(oneTime.serialize())).toBe(oneTimeBytes);
    expect(toHex(oneTime.toPublic().publicKey)).toBe(
      '0507a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c',
    );

    const signed = new SignedPreKey(0xfffffffe, new KeyPair(counting(32, 50)), counting(64, 100), 1_700_000_123_000);
    const signedBytes =
      '01fffffffe30333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f50516465666768696a6b6c6d6e6f70717273747576' +
      '7778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a36553f17b';
    expect(toHex(signed.serialize())).toBe(signedBytes);

    const { publicKey, secretKey } = ml_kem1024.keygen(counting(64, 9));
    const lastResort = new PqPreKey(9, new KemKeyPair(publicKey, secretKey), counting(64, 200), true);
    const oneTimePq = new PqPreKey(10, new KemKeyPair(publicKey, secretKey), counting(64, 201), false);
    expect(lastResort.serialize().length).toBe(4806);
    expect(toHex(sha256(lastResort.serialize()))).toBe(
      'c3810e0bd4dae02076c11d4069074a8428fb1935cc5b49535f3d07a3a5eecf31',
    );
    expect(toHex(sha256(oneTimePq.serialize()))).toBe(
      '3d519edba8d34f755409b3cc30989121972fe06cab3e7e814232b6b04ece9163',
    );
    expect(toHex(sha256(lastResort.toPublic().publicKey))).toBe(
      '8c3f79747a5ebbc41644ccfd6f76cb15a9779d0df5e97c88c2e3544023d5bc60',
    );

    const loadedOneTime = OneTimePreKey.deserialize(oneTime.serialize());
    expect(loadedOneTime.keyId).toBe(7);
    expect(loadedOneTime.toPublic()).toEqual(oneTime.toPublic());
    const loadedSigned = SignedPreKey.deserialize(signed.serialize());
    expect(loadedSigned.toPublic()).toEqual(signed.toPublic());
    expect(loadedSigned.createdAt).toBe(1_700_000_123_000);
    const loadedPq = PqPreKey.deserialize(lastResort.serialize());
    expect(loadedPq.lastResort).toBe(true);
    expect(PqPreKey.deserialize(oneTimePq.serialize()).lastResort).toBe(false);
    expect(toHex(loadedPq.serialize())).toBe(toHex(lastResort.serialize()));
  });

  it('a stored ML-KEM key pair whose halves disagree, or a flag other than 0/1, is refused', () => {
    const identity = generateIdentityKeyPair();
    const stored = generatePqPreKey(identity, 9, { lastResort: true }).serialize();
    // Stored form: version | u32 keyId | u8 lastResort | publicKey[1568] | secretKey[3168] | signature[64].
    const publicKeyAt = 6;
    const otherPublic = stored.slice();
    otherPublic[publicKeyAt + 100]! ^= 1;
    expect(() => PqPreKey.deserialize(otherPublic)).toThrow(
      expect.objectContaining({ code: CryptoErrorCode.InvalidKey }),
    );
    const otherFlag = stored.slice();
    otherFlag[5] = 2;
    expect(() => PqPreKey.deserialize(otherFlag)).toThrow(
      expect.objectContaining({ code: CryptoErrorCode.MalformedMessage }),
    );
    const other = ml_kem1024.keygen();
    expect(() => new KemKeyPair(ml_kem1024.keygen().publicKey, other.secretKey)).toThrow(CryptoError);
  });

  it('refuse another version, a kind mismatch, and ids outside uint32', () => {
    const oneTime = generateOneTimePreKeys(1, 1)[0]!.serialize();
    const otherVersion = oneTime.slice();
    otherVersion[0] = 2;
    expect(() => OneTimePreKey.deserialize(otherVersion)).toThrow(
      expect.objectContaining({ code: CryptoErrorCode.UnsupportedVersion }),
    );
    // A one-time prekey's bytes are too short to be a signed one, and too long the other way round.
    expect(() => SignedPreKey.deserialize(oneTime)).toThrow(CryptoError);
    const identity = generateIdentityKeyPair();
    expect(() => OneTimePreKey.deserialize(generateSignedPreKey(identity, 1).serialize())).toThrow(CryptoError);
    expect(() => new OneTimePreKey(2 ** 32, KeyPair.generate())).toThrow(
      expect.objectContaining({ code: CryptoErrorCode.InvalidArgument }),
    );
    expect(() => new OneTimePreKey(-1, KeyPair.generate())).toThrow(CryptoError);
  });

  it('public forms carry signatures by the identity key over the encoded public key', () => {
    const identity = generateIdentityKeyPair();
    const signed = generateSignedPreKey(identity, 3).toPublic();
    const pq = generatePqPreKey(identity, 4, { lastResort: true }).toPublic();
    expect(signed.publicKey.length).toBe(33);
    expect(pq.publicKey.length).toBe(1569);
    expect(xeddsaVerify(identity.publicKey, signed.publicKey, signed.signature)).toBe(true);
    expect(xeddsaVerify(identity.publicKey, pq.publicKey, pq.signature)).toBe(true);
    expect('signature' in generateOneTimePreKeys(5, 1)[0]!.toPublic()).toBe(false);
  });
});
