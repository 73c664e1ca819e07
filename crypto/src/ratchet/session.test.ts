import { describe, expect, it } from 'vitest';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import type { IdentityKeyPair } from '../keys/identity.ts';
import type { PreKeyBundle } from '../keys/prekeys.ts';
import { type CryptoLimits, resolveLimits } from '../limits.ts';
import { resolvePrimitives } from '../primitives/index.ts';
import type { PrekeyStore } from '../store.ts';
import { dec, enc, makeDevice } from '../testing/device.ts';
import type { AgreementOptions } from '../x3dh.ts';
import { parseSessionMessage } from './message.ts';
import { decryptBudget, Session, type SessionContext } from './session.ts';

/** The internal Session, driven directly; SessionRecord (session-record.test.ts) is the public path. */
const contextWith = (limits: Partial<CryptoLimits> = {}): SessionContext => ({
  limits: resolveLimits(limits),
  primitives: resolvePrimitives(undefined),
});
const context = contextWith();
const initiate = (identity: IdentityKeyPair, bundle: PreKeyBundle, options?: AgreementOptions) =>
  Session.initiate(identity, bundle, context, options);
/** Builds Bob's session, consumes the prekeys and commits, as SessionRecord does once the identity is trusted. */
const accept = async (
  identity: IdentityKeyPair,
  store: PrekeyStore,
  message: Uint8Array,
  options?: AgreementOptions,
) => {
  const accepted = await Session.accept(
    identity,
    store,
    parseSessionMessage(message, context.limits),
    context,
    options,
  );
  await accepted.consumePreKeys();
  accepted.pending.commit();
  return { session: accepted.session, plaintext: accepted.pending.plaintext };
};
const open = async (session: Session, message: Uint8Array, limits: CryptoLimits = context.limits) => {
  const pending = await session.decrypt(parseSessionMessage(message, limits), decryptBudget(limits));
  pending.commit();
  return pending.plaintext;
};

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  try {
    await promise;
  } catch (err) {
    expect(CryptoError.is(err)).toBe(true);
    expect((err as CryptoError).code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}, but it resolved`);
}

async function establish() {
  const alice = makeDevice();
  const bob = makeDevice();
  const aliceSession = await initiate(alice.identity, bob.bundle());
  const first = await aliceSession.encrypt(enc('hello bob'));
  const { session: bobSession, plaintext } = await accept(bob.identity, bob.store, first);
  expect(dec(plaintext)).toBe('hello bob');
  return { alice, bob, aliceSession, bobSession };
}

describe('PQXDH + Double Ratchet sessions', () => {
  it('exchanges messages both ways and consumes one-time prekeys', async () => {
    const { bob, aliceSession, bobSession } = await establish();
    expect(bob.store.oneTimePreKeys.size).toBe(4);
    expect(bob.store.pqPreKeys.has(101)).toBe(false);
    expect(bob.store.pqPreKeys.has(100)).toBe(true);
    for (let i = 0; i < 5; i++) {
      const toAlice = await bobSession.encrypt(enc(`b${i}`));
      expect(dec(await open(aliceSession, toAlice))).toBe(`b${i}`);
      const toBob = await aliceSession.encrypt(enc(`a${i}`));
      expect(dec(await open(bobSession, toBob))).toBe(`a${i}`);
    }
    expect(aliceSession.awaitingReply).toBe(false);
  });

  it('refuses a bundle without a PQ prekey unless classical X3DH is allowed', async () => {
    const alice = makeDevice();
    const bob = makeDevice();
    await expectCode(initiate(alice.identity, bob.bundle({ withPq: false })), CryptoErrorCode.MissingPqPrekey);
    const s = await initiate(alice.identity, bob.bundle({ withPq: false }), { allowClassicalX3dh: true });
    const first = await s.encrypt(enc('classical'));
    await expectCode(accept(bob.identity, bob.store, first), CryptoErrorCode.MissingPqPrekey);
    const { plaintext } = await accept(bob.identity, bob.store, first, { allowClassicalX3dh: true });
    expect(dec(plaintext)).toBe('classical');
  });

  it('refuses a bundle with a bad signed-prekey or PQ-prekey signature', async () => {
    const alice = makeDevice();
    const bob = makeDevice();
    const b1 = bob.bundle();
    b1.signedPreKey = { ...b1.signedPreKey, signature: b1.signedPreKey.signature.map((x, i) => (i === 0 ? x ^ 1 : x)) };
    await expectCode(initiate(alice.identity, b1), CryptoErrorCode.BadSignature);
    const b2 = bob.bundle();
    b2.pqPreKey = { ...b2.pqPreKey!, signature: bob.bundle().signedPreKey.signature };
    await expectCode(initiate(alice.identity, b2), CryptoErrorCode.BadSignature);
  });

  it('works without a one-time prekey and with the last-resort PQ key, which is kept', async () => {
    const alice = makeDevice();
    const bob = makeDevice();
    const s = await initiate(alice.identity, bob.bundle({ withOneTime: false, lastResort: true }));
    const { plaintext } = await accept(bob.identity, bob.store, await s.encrypt(enc('x')));
    expect(dec(plaintext)).toBe('x');
    expect(bob.store.pqPreKeys.has(100)).toBe(true);
  });

  it('decrypts out of order, refuses duplicates and replays', async () => {
    const { aliceSession, bobSession } = await establish();
    const reply = await bobSession.encrypt(enc('ack'));
    await open(aliceSession, reply);
    const msgs = [];
    for (let i = 0; i < 6; i++) msgs.push(await aliceSession.encrypt(enc(`m${i}`)));
    for (const i of [3, 0, 5, 1, 4, 2]) expect(dec(await open(bobSession, msgs[i]!))).toBe(`m${i}`);
    for (const m of msgs) await expectCode(open(bobSession, m), CryptoErrorCode.DuplicateMessage);
    await expectCode(open(aliceSession, reply), CryptoErrorCode.DuplicateMessage);
  });

  it('handles messages from an earlier chain after a DH ratchet step', async () => {
    const { aliceSession, bobSession } = await establish();
    const early = await bobSession.encrypt(enc('early'));
    const early2 = await bobSession.encrypt(enc('early2'));
    expect(dec(await open(aliceSession, early2))).toBe('early2');
    await open(bobSession, await aliceSession.encrypt(enc('turn')));
    const later = await bobSession.encrypt(enc('later'));
    expect(dec(await open(aliceSession, later))).toBe('later');
    expect(dec(await open(aliceSession, early))).toBe('early');
    await expectCode(open(aliceSession, early2), CryptoErrorCode.DuplicateMessage);
  });

  it('refuses tampered ciphertext and headers without changing state', async () => {
    const { aliceSession, bobSession } = await establish();
    const msg = await bobSession.encrypt(enc('secret'));
    for (const index of [0, 1, 2, 10, 34, 38, msg.length - 1, msg.length - 20]) {
      const bad = msg.slice();
      bad[index]! ^= 0x01;
      await expect(open(aliceSession, bad)).rejects.toBeInstanceOf(CryptoError);
    }
    await expectCode(open(aliceSession, msg.subarray(0, 20)), CryptoErrorCode.MalformedMessage);
    expect(dec(await open(aliceSession, msg))).toBe('secret');
  });

  it('refuses a jump beyond MAX_SKIP and caps stored skipped keys', async () => {
    const { aliceSession, bobSession } = await establish();
    const limited = contextWith({ maxSkip: 5, maxStoredSkippedKeys: 3 });
    const alice = Session.deserialize(aliceSession.serialize(), limited);
    const bob = Session.deserialize(bobSession.serialize(), limited);
    await open(alice, await bob.encrypt(enc('r')));
    const msgs = [];
    for (let i = 0; i < 8; i++) msgs.push(await alice.encrypt(enc(`m${i}`)));
    await expectCode(open(bob, msgs[7]!), CryptoErrorCode.TooManySkipped);
    expect(dec(await open(bob, msgs[5]!))).toBe('m5');
    expect(bob.skippedKeyCount).toBe(3);
    // m0 and m1 were evicted; m2..m4 remain.
    await expectCode(open(bob, msgs[0]!), CryptoErrorCode.DuplicateMessage);
    expect(dec(await open(bob, msgs[2]!))).toBe('m2');
  });

  it('a chain that fell more than MAX_SKIP behind is abandoned at the next ratchet step, not the session', async () => {
    const { aliceSession, bobSession } = await establish();
    const limited = contextWith({ maxSkip: 5 });
    const alice = Session.deserialize(aliceSession.serialize(), limited);
    const bob = Session.deserialize(bobSession.serialize(), limited);
    await open(alice, await bob.encrypt(enc('r')));
    await open(bob, await alice.encrypt(enc('first of a chain')));
    for (let i = 0; i < 7; i++) await alice.encrypt(enc('lost'));
    const stuck = await alice.encrypt(enc('too far'));
    await expectCode(open(bob, stuck), CryptoErrorCode.TooManySkipped);
    // Bob replies on his new chain; Alice's next chain names the old one, 9 long: Bob drops its rest and reads on.
    await open(alice, await bob.encrypt(enc('still there?')));
    expect(dec(await open(bob, await alice.encrypt(enc('yes'))))).toBe('yes');
    expect(bob.skippedKeyCount).toBe(0);
    await expectCode(open(bob, stuck), CryptoErrorCode.DuplicateMessage);
  });

  it('loads a state whose ratchet private key was stored unclamped (as WebCrypto in Chromium hands it out)', async () => {
    const { aliceSession, bobSession } = await establish();
    const bytes = aliceSession.serialize();
    // version, two identity keys, AD (u32 length + 66), base key, root key: then the sending private key.
    const at = 1 + 33 + 33 + 4 + 66 + 32 + 32;
    expect(bytes[at]! & 7).toBe(0); // clamped as stored: this is the key's first byte
    const unclamped = bytes.slice();
    unclamped[at]! |= 7;
    const restored = Session.deserialize(unclamped, context);
    expect(restored.serialize()).toEqual(bytes);
    expect(dec(await open(bobSession, await restored.encrypt(enc('still mine'))))).toBe('still mine');
  });

  it('restores exactly from serialized state', async () => {
    const { aliceSession, bobSession } = await establish();
    const pending = await bobSession.encrypt(enc('while offline'));
    const aliceBytes = aliceSession.serialize();
    const restored = Session.deserialize(aliceBytes, context);
    expect(restored.serialize()).toEqual(aliceBytes);
    expect(dec(await open(restored, pending))).toBe('while offline');
    const bobRestored = Session.deserialize(bobSession.serialize(), context);
    expect(dec(await open(bobRestored, await restored.encrypt(enc('back'))))).toBe('back');
    await expectCode(
      Promise.resolve().then(() => Session.deserialize(aliceBytes.subarray(0, 50), context)),
      'CRYPTO_MALFORMED_MESSAGE',
    );
    const wrongVersion = aliceBytes.slice();
    wrongVersion[0] = 99;
    await expectCode(
      Promise.resolve().then(() => Session.deserialize(wrongVersion, context)),
      'CRYPTO_UNSUPPORTED_VERSION',
    );
  });

  it('refuses an initial message that belongs to another session', async () => {
    const alice = makeDevice();
    const bob = makeDevice();
    const first = await initiate(alice.identity, bob.bundle({ withOneTime: false, lastResort: true }));
    const second = await initiate(alice.identity, bob.bundle({ withOneTime: false, lastResort: true }));
    const { session } = await accept(bob.identity, bob.store, await first.encrypt(enc('1')));
    await expectCode(open(session, await second.encrypt(enc('2'))), CryptoErrorCode.InvalidState);
  });

  it('refuses oversized and non-byte plaintext, with typed codes', async () => {
    const alice = makeDevice();
    const bob = makeDevice();
    const s = await Session.initiate(alice.identity, bob.bundle(), contextWith({ maxPlaintextBytes: 8 }));
    await expectCode(s.encrypt('text' as unknown as Uint8Array), CryptoErrorCode.InvalidArgument);
    await expectCode(s.encrypt(new Uint8Array(9)), CryptoErrorCode.InvalidArgument);
    const { plaintext } = await accept(bob.identity, bob.store, await s.encrypt(enc('ok')));
    expect(dec(plaintext)).toBe('ok');
  });

  it('restoring checks meaning, not only shape; a lowered skipped-key limit still loads', async () => {
    const { aliceSession, bobSession } = await establish();
    await open(aliceSession, await bobSession.encrypt(enc('r')));
    const msgs = [];
    for (let i = 0; i < 6; i++) msgs.push(await aliceSession.encrypt(enc(`m${i}`)));
    await open(bobSession, msgs[5]!); // Bob stores 5 skipped keys
    const bytes = bobSession.serialize();
    // Layout (state.ts): version | local 33 | remote 33 | u32 66 + AD 66 | base 32 | root 32 | DHs private 32 | DHs public 32 | flag …
    const at = { remote: 34, ad: 71, sendingPublic: 233, flag: 265 };
    const changed = (offset: number, value: number) => {
      const copy = bytes.slice();
      copy[offset] = value;
      return copy;
    };
    const cases: Array<[string, Uint8Array]> = [
      ['remote identity type byte', changed(at.remote, 0x06)],
      ['associated data', changed(at.ad + 40, bytes[at.ad + 40]! ^ 1)],
      ['ratchet public key', changed(at.sendingPublic + 3, bytes[at.sendingPublic + 3]! ^ 1)],
      ['flag value', changed(at.flag, 2)],
    ];
    for (const [what, bad] of cases) {
      expect(() => Session.deserialize(bad, context), what).toThrow(
        expect.objectContaining({ code: expect.stringMatching(/CRYPTO_MALFORMED_MESSAGE|CRYPTO_INVALID_KEY/) }),
      );
    }
    // A record stored under a larger maxStoredSkippedKeys: it loads, keeping the newest keys.
    const lowered = Session.deserialize(bytes, contextWith({ maxStoredSkippedKeys: 2 }));
    expect(lowered.skippedKeyCount).toBe(2);
    expect(dec(await open(lowered, msgs[4]!))).toBe('m4');
    await expectCode(open(lowered, msgs[0]!), CryptoErrorCode.DuplicateMessage);
  });
});
