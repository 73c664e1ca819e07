import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CryptoError, CryptoErrorCode, receiveSessionMessage, Session } from '../src/index.ts';
import { dec, enc, makeDevice } from './helpers.ts';

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
  const aliceSession = await Session.initiate(alice.identity, bob.bundle());
  const first = await aliceSession.encrypt(enc('hello bob'));
  const { session: bobSession, plaintext } = await Session.accept(bob.identity, bob.store, first);
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
      expect(dec(await aliceSession.decrypt(toAlice))).toBe(`b${i}`);
      const toBob = await aliceSession.encrypt(enc(`a${i}`));
      expect(dec(await bobSession.decrypt(toBob))).toBe(`a${i}`);
    }
    expect(aliceSession.awaitingReply).toBe(false);
  });

  it('refuses a bundle without a PQ prekey unless classical X3DH is allowed', async () => {
    const alice = makeDevice();
    const bob = makeDevice();
    await expectCode(Session.initiate(alice.identity, bob.bundle({ withPq: false })), CryptoErrorCode.MissingPqPrekey);
    const s = await Session.initiate(alice.identity, bob.bundle({ withPq: false }), { allowClassicalX3dh: true });
    const first = await s.encrypt(enc('classical'));
    await expectCode(Session.accept(bob.identity, bob.store, first), CryptoErrorCode.MissingPqPrekey);
    const { plaintext } = await Session.accept(bob.identity, bob.store, first, { allowClassicalX3dh: true });
    expect(dec(plaintext)).toBe('classical');
  });

  it('refuses a bundle with a bad signed-prekey or PQ-prekey signature', async () => {
    const alice = makeDevice();
    const bob = makeDevice();
    const b1 = bob.bundle();
    b1.signedPreKey = { ...b1.signedPreKey, signature: b1.signedPreKey.signature.map((x, i) => (i === 0 ? x ^ 1 : x)) };
    await expectCode(Session.initiate(alice.identity, b1), CryptoErrorCode.BadSignature);
    const b2 = bob.bundle();
    b2.pqPreKey = { ...b2.pqPreKey!, signature: bob.bundle().signedPreKey.signature };
    await expectCode(Session.initiate(alice.identity, b2), CryptoErrorCode.BadSignature);
  });

  it('works without a one-time prekey and with the last-resort PQ key, which is kept', async () => {
    const alice = makeDevice();
    const bob = makeDevice();
    const s = await Session.initiate(alice.identity, bob.bundle({ withOneTime: false, lastResort: true }));
    const { plaintext } = await Session.accept(bob.identity, bob.store, await s.encrypt(enc('x')));
    expect(dec(plaintext)).toBe('x');
    expect(bob.store.pqPreKeys.has(100)).toBe(true);
  });

  it('decrypts out of order, refuses duplicates and replays', async () => {
    const { aliceSession, bobSession } = await establish();
    const reply = await bobSession.encrypt(enc('ack'));
    await aliceSession.decrypt(reply);
    const msgs = [];
    for (let i = 0; i < 6; i++) msgs.push(await aliceSession.encrypt(enc(`m${i}`)));
    for (const i of [3, 0, 5, 1, 4, 2]) expect(dec(await bobSession.decrypt(msgs[i]!))).toBe(`m${i}`);
    for (const m of msgs) await expectCode(bobSession.decrypt(m), CryptoErrorCode.DuplicateMessage);
    await expectCode(aliceSession.decrypt(reply), CryptoErrorCode.DuplicateMessage);
  });

  it('handles messages from an earlier chain after a DH ratchet step', async () => {
    const { aliceSession, bobSession } = await establish();
    const early = await bobSession.encrypt(enc('early'));
    const early2 = await bobSession.encrypt(enc('early2'));
    expect(dec(await aliceSession.decrypt(early2))).toBe('early2');
    await bobSession.decrypt(await aliceSession.encrypt(enc('turn')));
    const later = await bobSession.encrypt(enc('later'));
    expect(dec(await aliceSession.decrypt(later))).toBe('later');
    expect(dec(await aliceSession.decrypt(early))).toBe('early');
    await expectCode(aliceSession.decrypt(early2), CryptoErrorCode.DuplicateMessage);
  });

  it('refuses tampered ciphertext and headers without changing state', async () => {
    const { aliceSession, bobSession } = await establish();
    const msg = await bobSession.encrypt(enc('secret'));
    for (const index of [0, 1, 2, 10, 34, 38, msg.length - 1, msg.length - 20]) {
      const bad = msg.slice();
      bad[index]! ^= 0x01;
      await expect(aliceSession.decrypt(bad)).rejects.toBeInstanceOf(CryptoError);
    }
    await expectCode(aliceSession.decrypt(msg.subarray(0, 20)), CryptoErrorCode.MalformedMessage);
    expect(dec(await aliceSession.decrypt(msg))).toBe('secret');
  });

  it('refuses a jump beyond MAX_SKIP and caps stored skipped keys', async () => {
    const { aliceSession, bobSession } = await establish();
    const limits = { maxSkip: 5, maxStoredSkippedKeys: 3 };
    const alice = Session.deserialize(aliceSession.serialize(), { limits });
    const bob = Session.deserialize(bobSession.serialize(), { limits });
    await alice.decrypt(await bob.encrypt(enc('r')));
    const msgs = [];
    for (let i = 0; i < 8; i++) msgs.push(await alice.encrypt(enc(`m${i}`)));
    await expectCode(bob.decrypt(msgs[7]!), CryptoErrorCode.TooManySkipped);
    expect(dec(await bob.decrypt(msgs[5]!))).toBe('m5');
    expect(bob.skippedKeyCount).toBe(3);
    // m0 and m1 were evicted; m2..m4 remain.
    await expectCode(bob.decrypt(msgs[0]!), CryptoErrorCode.DuplicateMessage);
    expect(dec(await bob.decrypt(msgs[2]!))).toBe('m2');
  });

  it('restores exactly from serialized state', async () => {
    const { aliceSession, bobSession } = await establish();
    const pending = await bobSession.encrypt(enc('while offline'));
    const aliceBytes = aliceSession.serialize();
    const restored = Session.deserialize(aliceBytes);
    expect(restored.serialize()).toEqual(aliceBytes);
    expect(dec(await restored.decrypt(pending))).toBe('while offline');
    const bobRestored = Session.deserialize(bobSession.serialize());
    expect(dec(await bobRestored.decrypt(await restored.encrypt(enc('back'))))).toBe('back');
    await expectCode(
      Promise.resolve().then(() => Session.deserialize(aliceBytes.subarray(0, 50))),
      'CRYPTO_MALFORMED_MESSAGE',
    );
    const wrongVersion = aliceBytes.slice();
    wrongVersion[0] = 99;
    await expectCode(
      Promise.resolve().then(() => Session.deserialize(wrongVersion)),
      'CRYPTO_UNSUPPORTED_VERSION',
    );
  });

  it('routes repeated initial messages to the same session; a replay after loss of the session is refused', async () => {
    const alice = makeDevice();
    const bob = makeDevice();
    const s = await Session.initiate(alice.identity, bob.bundle({ withOneTime: false, lastResort: true }));
    const m1 = await s.encrypt(enc('1'));
    const m2 = await s.encrypt(enc('2'));
    const r2 = await receiveSessionMessage(bob.identity, bob.store, m2);
    expect(r2.isNewSession).toBe(true);
    const r1 = await receiveSessionMessage(bob.identity, bob.store, m1, { session: r2.session });
    expect(r1.isNewSession).toBe(false);
    expect(dec(r1.plaintext)).toBe('1');
    await expectCode(receiveSessionMessage(bob.identity, bob.store, m1), CryptoErrorCode.DuplicateMessage);
  });

  it('serializes concurrent operations on one session', async () => {
    const { aliceSession, bobSession } = await establish();
    const msgs = await Promise.all(Array.from({ length: 10 }, (_, i) => bobSession.encrypt(enc(`c${i}`))));
    const out = await Promise.all(msgs.map((m) => aliceSession.decrypt(m)));
    expect(out.map(dec)).toEqual(Array.from({ length: 10 }, (_, i) => `c${i}`));
  });

  it('never prints session secrets', async () => {
    const { aliceSession } = await establish();
    expect(inspect(aliceSession)).toContain('redacted');
    expect(JSON.stringify({ aliceSession })).toContain('redacted');
  });
});

describe('misuse at the API edge', () => {
  it('rejects (never throws synchronously) on non-bytes and oversized input, with typed codes', async () => {
    const alice = makeDevice();
    const bob = makeDevice();
    const s = await Session.initiate(alice.identity, bob.bundle(), { limits: { maxPlaintextBytes: 8 } });
    const notBytes = 'text' as unknown as Uint8Array;
    await expectCode(s.encrypt(notBytes), CryptoErrorCode.InvalidArgument);
    await expectCode(s.encrypt(new Uint8Array(9)), CryptoErrorCode.InvalidArgument);
    await expectCode(s.decrypt(notBytes), CryptoErrorCode.InvalidArgument);
    await expectCode(
      receiveSessionMessage(bob.identity, bob.store, new Uint8Array([1, 1, 0])),
      CryptoErrorCode.MalformedMessage,
    );
    await expectCode(
      receiveSessionMessage(bob.identity, bob.store, new Uint8Array([1, 1, ...new Uint8Array(60)])),
      CryptoErrorCode.LowOrderPoint,
    );
    const strayNormal = new Uint8Array([1, 1, ...alice.identity.publicKey.subarray(1), ...new Uint8Array(8 + 16)]);
    await expectCode(receiveSessionMessage(bob.identity, bob.store, strayNormal), CryptoErrorCode.InvalidState);
    // Still usable afterwards.
    const { plaintext } = await Session.accept(bob.identity, bob.store, await s.encrypt(enc('ok')));
    expect(dec(plaintext)).toBe('ok');
  });
});
