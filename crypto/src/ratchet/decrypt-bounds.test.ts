/**
 * What an attacker can make a receiver spend or accept: replayed initial messages
 * (PQXDH §4.2, scoped to the prekeys as libsignal does) and the work a forged message costs
 * before its MAC is checked (limits.maxDerivationsPerMessage, maxRatchetStepsPerMessage).
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { ByteWriter } from '../codec.ts';
import { CryptoErrorCode } from '../errors.ts';
import { generatePqPreKey, generateSignedPreKey } from '../keys/prekeys.ts';
import { DEFAULT_CRYPTO_LIMITS } from '../limits.ts';
import { noblePrimitives } from '../primitives/index.ts';
import { dec, enc, makeDevice } from '../testing/device.ts';
import { counted } from '../testing/primitives.ts';
import { SessionRecord } from './session-record.ts';

const code = (c: string) => expect.objectContaining({ code: c });

describe('replayed initial messages (last-resort prekeys)', () => {
  it('are refused while their signed and PQ prekeys live, and fail for want of the key once rotated', async () => {
    const alice = makeDevice();
    const bob = makeDevice();
    const atAlice = new SessionRecord();
    await atAlice.initiate(alice.identity, bob.bundle({ withOneTime: false, lastResort: true }));
    const initial = await atAlice.encrypt(enc('only reusable keys'));
    expect(dec((await new SessionRecord().decrypt(bob.identity, bob.store, initial)).plaintext)).toBe(
      'only reusable keys',
    );
    expect(bob.store.usedPreKeys()).toHaveLength(1);
    expect(bob.store.usedPreKeys()[0]).toMatchObject({ signedPreKeyId: 1, pqPreKeyId: 100 });
    // A replay to a record that does not hold the session (dropped, or another sender address).
    await expect(new SessionRecord().decrypt(bob.identity, bob.store, initial)).rejects.toEqual(
      code(CryptoErrorCode.DuplicateMessage),
    );
    // Bob rotates his last-resort PQ key: the entry goes with it, and the replay has no key to use.
    bob.store.addPqPreKey(generatePqPreKey(bob.identity, 200, { lastResort: true }));
    bob.store.removePqPreKey(100);
    expect(bob.store.usedPreKeys()).toHaveLength(0);
    await expect(new SessionRecord().decrypt(bob.identity, bob.store, initial)).rejects.toEqual(
      code(CryptoErrorCode.UnknownPrekey),
    );
  });

  it('a classical initial message is recorded by its signed prekey and forgotten when it rotates', async () => {
    const alice = makeDevice();
    const bob = makeDevice();
    const atAlice = new SessionRecord();
    const classical = { allowClassicalX3dh: true };
    await atAlice.initiate(alice.identity, bob.bundle({ withOneTime: false, withPq: false }), classical);
    const initial = await atAlice.encrypt(enc('x3dh'));
    await new SessionRecord().decrypt(bob.identity, bob.store, initial, classical);
    expect(bob.store.usedPreKeys()[0]).toMatchObject({ signedPreKeyId: 1, pqPreKeyId: undefined });
    await expect(new SessionRecord().decrypt(bob.identity, bob.store, initial, classical)).rejects.toEqual(
      code(CryptoErrorCode.DuplicateMessage),
    );
    bob.store.addSignedPreKey(generateSignedPreKey(bob.identity, 2));
    bob.store.removeSignedPreKey(1);
    expect(bob.store.usedPreKeys()).toHaveLength(0);
    await expect(new SessionRecord().decrypt(bob.identity, bob.store, initial, classical)).rejects.toEqual(
      code(CryptoErrorCode.UnknownPrekey),
    );
  });

  it('messages that used a one-time key are not recorded: the key is gone, so is any replay', async () => {
    const alice = makeDevice();
    const bob = makeDevice();
    const atAlice = new SessionRecord();
    await atAlice.initiate(alice.identity, bob.bundle());
    const initial = await atAlice.encrypt(enc('one-time keys'));
    await new SessionRecord().decrypt(bob.identity, bob.store, initial);
    expect(bob.store.usedPreKeys()).toHaveLength(0);
    await expect(new SessionRecord().decrypt(bob.identity, bob.store, initial)).rejects.toEqual(
      code(CryptoErrorCode.UnknownPrekey),
    );
  });
});

/** A normal message with a fresh (valid) ratchet key, the given counters, one block of ciphertext and a zero MAC. */
function forgedNormal(previousCounter: number, counter: number): Uint8Array {
  const ratchetKey = x25519.getPublicKey(x25519.utils.randomSecretKey());
  return new ByteWriter()
    .u8(2)
    .u8(1)
    .raw(ratchetKey)
    .u32(previousCounter)
    .u32(counter)
    .raw(new Uint8Array(16 + 8))
    .finish();
}

describe('work a forged message costs before its MAC is checked', () => {
  it('is bounded over all the sessions of a record, not per session', async () => {
    const alice = makeDevice();
    const bob = makeDevice();
    const atBob = new SessionRecord();
    // Eleven sessions with Alice at Bob's (current + 10 archived), each with a receiving chain.
    for (let i = 0; i < DEFAULT_CRYPTO_LIMITS.maxArchivedSessions + 1; i++) {
      const atAlice = new SessionRecord();
      await atAlice.initiate(alice.identity, bob.bundle({ withOneTime: false, lastResort: true }));
      await atBob.decrypt(bob.identity, bob.store, await atAlice.encrypt(enc(`session ${i}`)));
    }
    expect(atBob.size).toBe(11);
    const meter = counted(noblePrimitives);
    const metered = SessionRecord.deserialize(atBob.serialize(), { primitives: meter.handle });
    const before = metered.serialize();
    // Without the bound: 11 × (999 + 1,000) chain steps and 11 DH ratchet steps.
    await expect(metered.decrypt(bob.identity, bob.store, forgedNormal(1000, 1000))).rejects.toEqual(
      expect.objectContaining({ code: expect.stringMatching(/CRYPTO_WORK_LIMIT|CRYPTO_DECRYPT_FAILED/) }),
    );
    const { maxDerivationsPerMessage, maxRatchetStepsPerMessage } = DEFAULT_CRYPTO_LIMITS;
    // A chain step is 2 HMACs; a ratchet step 2 X25519 + 1 key generation + 2 HKDF; each try that
    // reaches the MAC adds its last chain step (2), message keys (1) and the MAC (1).
    const ceiling = 2 * maxDerivationsPerMessage + maxRatchetStepsPerMessage * (5 + 4);
    expect(meter.calls()).toBeLessThanOrEqual(ceiling);
    expect(meter.calls()).toBeGreaterThan(0);
    expect(metered.serialize()).toEqual(before);
  });

  it('past maxDerivationsPerMessage a message is refused as CRYPTO_WORK_LIMIT, each jump within maxSkip; within it, it decrypts', async () => {
    const limits = { maxSkip: 50, maxDerivationsPerMessage: 60 };
    /** Alice's chain loses `lostOld` messages, Bob replies, her next chain loses `lostNew`: what Bob then receives. */
    async function afterLosses(lostOld: number, lostNew: number) {
      const alice = makeDevice();
      const bob = makeDevice();
      const atAlice = new SessionRecord({ limits });
      const atBob = new SessionRecord({ limits });
      await atAlice.initiate(alice.identity, bob.bundle());
      await atBob.decrypt(bob.identity, bob.store, await atAlice.encrypt(enc('start')));
      for (let i = 0; i < lostOld; i++) await atAlice.encrypt(enc('lost on the old chain'));
      await atAlice.decrypt(alice.identity, alice.store, await atBob.encrypt(enc('reply')));
      for (let i = 0; i < lostNew; i++) await atAlice.encrypt(enc('lost on the new chain'));
      return { atBob, bob, message: await atAlice.encrypt(enc('arrives')) };
    }
    // 40 keys left on the old chain + 30 on the new one = 70 steps > 60 (each jump ≤ maxSkip 50).
    const over = await afterLosses(40, 30);
    const before = over.atBob.serialize();
    await expect(over.atBob.decrypt(over.bob.identity, over.bob.store, over.message)).rejects.toEqual(
      code(CryptoErrorCode.WorkLimit),
    );
    expect(over.atBob.serialize()).toEqual(before);
    // 30 + 29 = 59 steps: decrypts, and the skipped keys are kept.
    const within = await afterLosses(30, 29);
    expect(dec((await within.atBob.decrypt(within.bob.identity, within.bob.store, within.message)).plaintext)).toBe(
      'arrives',
    );
  });
});
