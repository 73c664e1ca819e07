import { describe, expect, it } from 'vitest';
import { CryptoError, CryptoErrorCode, Session, SessionRecord } from '../src/index.ts';
import { dec, enc, makeDevice } from './helpers.ts';

describe('SessionRecord: current and archived sessions with one peer', () => {
  it('converges after both sides initiate at once; every message decrypts exactly once', async () => {
    const alice = makeDevice();
    const bob = makeDevice();
    const atAlice = new SessionRecord();
    const atBob = new SessionRecord();
    await atAlice.initiate(alice.identity, bob.bundle());
    await atBob.initiate(bob.identity, alice.bundle());
    const a1 = await atAlice.encrypt(enc('a1'));
    const a1b = await atAlice.encrypt(enc('a1b'));
    const b1 = await atBob.encrypt(enc('b1'));

    expect(dec((await atBob.decrypt(bob.identity, bob.store, a1)).plaintext)).toBe('a1');
    expect(dec((await atAlice.decrypt(alice.identity, alice.store, b1)).plaintext)).toBe('b1');
    expect(atAlice.size).toBe(2);
    expect(atBob.size).toBe(2);

    // Each now sends on the session the other started; the receiver finds it among its archived ones.
    const a2 = await atAlice.encrypt(enc('a2'));
    expect(dec((await atBob.decrypt(bob.identity, bob.store, a2)).plaintext)).toBe('a2');
    const b2 = await atBob.encrypt(enc('b2'));
    expect(dec((await atAlice.decrypt(alice.identity, alice.store, b2)).plaintext)).toBe('b2');
    const a3 = await atAlice.encrypt(enc('a3'));
    expect(dec((await atBob.decrypt(bob.identity, bob.store, a3)).plaintext)).toBe('a3');
    expect(atAlice.current!.baseKey).toEqual(atBob.current!.baseKey);

    // A late initial message from the abandoned session still decrypts, once.
    expect(dec((await atBob.decrypt(bob.identity, bob.store, a1b)).plaintext)).toBe('a1b');
    for (const replay of [a1, a1b, a2, a3]) {
      const err = await atBob.decrypt(bob.identity, bob.store, replay).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(CryptoError.is(err, CryptoErrorCode.DuplicateMessage), 'replay refused as duplicate').toBe(true);
    }

    const restored = SessionRecord.deserialize(atBob.serialize());
    expect(restored.size).toBe(2);
    expect(dec((await atAlice.decrypt(alice.identity, alice.store, await restored.encrypt(enc('b3')))).plaintext)).toBe(
      'b3',
    );
  });

  it('keeps at most maxArchivedSessions old sessions; encrypting without a session is refused', async () => {
    const alice = makeDevice();
    const bob = makeDevice();
    const record = new SessionRecord({ limits: { maxArchivedSessions: 2 } });
    await expect(record.encrypt(enc('x'))).rejects.toMatchObject({ code: CryptoErrorCode.InvalidState });
    for (let i = 0; i < 5; i++)
      await record.initiate(alice.identity, bob.bundle({ withOneTime: false, lastResort: true }));
    expect(record.size).toBe(3);
    expect(() => SessionRecord.deserialize(record.serialize(), { limits: { maxArchivedSessions: 1 } })).toThrow(
      CryptoError,
    );
  });

  it('wraps a session saved before records existed, which then keeps working and serializes as a record', async () => {
    const alice = makeDevice();
    const bob = makeDevice();
    const session = await Session.initiate(alice.identity, bob.bundle());
    const first = await session.encrypt(enc('before'));
    const atBob = new SessionRecord();
    expect(dec((await atBob.decrypt(bob.identity, bob.store, first)).plaintext)).toBe('before');

    const restored = SessionRecord.deserialize(
      SessionRecord.fromSession(Session.deserialize(session.serialize())).serialize(),
    );
    expect(restored.size).toBe(1);
    expect(restored.current!.baseKey).toEqual(session.baseKey);
    const next = await restored.encrypt(enc('after'));
    expect(dec((await atBob.decrypt(bob.identity, bob.store, next)).plaintext)).toBe('after');
  });
});
