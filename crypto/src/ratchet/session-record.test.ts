import { describe, expect, it } from 'vitest';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { resolveLimits } from '../limits.ts';
import { noblePrimitives, primitivesByName, webCryptoPrimitives } from '../primitives/index.ts';
import { dec, enc, makeDevice } from '../testing/device.ts';
import { counted } from '../testing/primitives.ts';
import { Session } from './session.ts';
import { SessionRecord } from './session-record.ts';

/** Primitive calls per message sent: chain step (2 HMAC), message keys (HKDF), AES-CBC, MAC (HMAC). */
const ENCRYPT_CALLS = 5;

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(CryptoError.is(err), `expected ${code}, got ${String(err)}`).toBe(true);
  expect((err as CryptoError).code).toBe(code);
}

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
    // A limit lowered since the record was stored: it still loads, keeping the most recent sessions.
    const lowered = SessionRecord.deserialize(record.serialize(), { limits: { maxArchivedSessions: 1 } });
    expect(lowered.size).toBe(2);
    expect(lowered.current!.baseKey).toEqual(record.current!.baseKey);
    const { plaintext } = await new SessionRecord().decrypt(bob.identity, bob.store, await lowered.encrypt(enc('on')));
    expect(dec(plaintext)).toBe('on');
  });

  it('wraps a session stored on its own (before records existed), which keeps working and serializes as a record', async () => {
    const alice = makeDevice();
    const bob = makeDevice();
    const context = { limits: resolveLimits(), primitives: noblePrimitives };
    const session = await Session.initiate(alice.identity, bob.bundle(), context);
    const first = await session.encrypt(enc('before'));
    const atBob = new SessionRecord();
    expect(dec((await atBob.decrypt(bob.identity, bob.store, first)).plaintext)).toBe('before');

    const wrapped = SessionRecord.fromSerializedSession(session.serialize());
    expect(wrapped.current!.serialize()).toEqual(session.serialize());
    const restored = SessionRecord.deserialize(wrapped.serialize());
    expect(restored.size).toBe(1);
    expect(restored.current!.baseKey).toEqual(session.baseKey);
    expect(restored.current!.remoteIdentityKey).toEqual(bob.identity.publicKey);
    expect(restored.current!.awaitingReply).toBe(true);
    const next = await restored.encrypt(enc('after'));
    expect(dec((await atBob.decrypt(bob.identity, bob.store, next)).plaintext)).toBe('after');
    expect(() => SessionRecord.fromSerializedSession(new Uint8Array([1, 2, 3]))).toThrow(CryptoError);
  });

  it('routes repeated initial messages to the session they built; a replay to a record without it is refused', async () => {
    const alice = makeDevice();
    const bob = makeDevice();
    const atAlice = new SessionRecord();
    await atAlice.initiate(alice.identity, bob.bundle({ withOneTime: false, lastResort: true }));
    const m1 = await atAlice.encrypt(enc('1'));
    const m2 = await atAlice.encrypt(enc('2'));
    const atBob = new SessionRecord();
    const r2 = await atBob.decrypt(bob.identity, bob.store, m2);
    expect(r2.isNewSession).toBe(true);
    expect(r2.session.remoteIdentityKey).toEqual(alice.identity.publicKey);
    const r1 = await atBob.decrypt(bob.identity, bob.store, m1);
    expect(r1.isNewSession).toBe(false);
    expect(dec(r1.plaintext)).toBe('1');
    expect(atBob.size).toBe(1);
    await expectCode(new SessionRecord().decrypt(bob.identity, bob.store, m1), CryptoErrorCode.DuplicateMessage);
  });

  it('runs concurrent operations one at a time', async () => {
    const alice = makeDevice();
    const bob = makeDevice();
    const atAlice = new SessionRecord();
    const atBob = new SessionRecord();
    await atAlice.initiate(alice.identity, bob.bundle());
    await atBob.decrypt(bob.identity, bob.store, await atAlice.encrypt(enc('hello')));
    const msgs = await Promise.all(Array.from({ length: 10 }, (_, i) => atBob.encrypt(enc(`c${i}`))));
    const out = await Promise.all(msgs.map((m) => atAlice.decrypt(alice.identity, alice.store, m)));
    expect(out.map((r) => dec(r.plaintext))).toEqual(Array.from({ length: 10 }, (_, i) => `c${i}`));
  });

  it('records with different primitives work side by side in one process, each on its own', async () => {
    const alice = makeDevice();
    const bob = makeDevice();
    const viaNoble = counted(noblePrimitives);
    const viaWebCrypto = counted(webCryptoPrimitives);
    const atAlice = new SessionRecord({ primitives: viaNoble.handle });
    const atBob = new SessionRecord({ primitives: viaWebCrypto.handle });
    await atAlice.initiate(alice.identity, bob.bundle());
    const first = await atAlice.encrypt(enc('hello'));
    const aliceCalls = viaNoble.calls();
    expect(viaWebCrypto.calls()).toBe(0);
    await atBob.decrypt(bob.identity, bob.store, first);
    expect(viaNoble.calls()).toBe(aliceCalls);
    expect(viaWebCrypto.calls()).toBeGreaterThan(0);

    // Both at once, interleaved on the event loop: each record keeps to its own path.
    const before = { noble: viaNoble.calls(), webcrypto: viaWebCrypto.calls() };
    const [fromAlice, fromBob] = await Promise.all([
      Promise.all(Array.from({ length: 5 }, (_, i) => atAlice.encrypt(enc(`a${i}`)))),
      Promise.all(Array.from({ length: 5 }, (_, i) => atBob.encrypt(enc(`b${i}`)))),
    ]);
    const afterEncrypt = { noble: viaNoble.calls(), webcrypto: viaWebCrypto.calls() };
    // Each encryption costs the same calls (chain step: 2 HMACs, 1 HKDF, 1 AES-GCM) on its own record's path.
    expect(afterEncrypt.noble - before.noble).toBe(5 * ENCRYPT_CALLS);
    expect(afterEncrypt.webcrypto - before.webcrypto).toBe(5 * ENCRYPT_CALLS);
    const [atBobPlain, atAlicePlain] = await Promise.all([
      Promise.all(fromAlice.map((m) => atBob.decrypt(bob.identity, bob.store, m))),
      Promise.all(fromBob.map((m) => atAlice.decrypt(alice.identity, alice.store, m))),
    ]);
    expect(atBobPlain.map((r) => dec(r.plaintext))).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
    expect(atAlicePlain.map((r) => dec(r.plaintext))).toEqual(['b0', 'b1', 'b2', 'b3', 'b4']);

    // A restored record computes with the primitives it is given now, not those it was saved with.
    const viaNobleAgain = counted(noblePrimitives);
    const reopened = SessionRecord.deserialize(atAlice.serialize(), { primitives: viaNobleAgain.handle });
    const later = await reopened.encrypt(enc('later'));
    expect(viaNobleAgain.calls()).toBe(ENCRYPT_CALLS);
    expect(dec((await atBob.decrypt(bob.identity, bob.store, later)).plaintext)).toBe('later');
    // Named paths work the same way.
    const named = SessionRecord.deserialize(atBob.serialize(), { primitives: primitivesByName('node') });
    expect(dec((await atAlice.decrypt(alice.identity, alice.store, await named.encrypt(enc('n')))).plaintext)).toBe(
      'n',
    );
  });
});

describe('one public receive path', () => {
  it('the package exports SessionRecord for 1:1 messages, not Session; the sessions it shows cannot decrypt', async () => {
    const api = await import('../index.ts');
    for (const name of ['Session', 'receiveSessionMessage']) expect(name in api).toBe(false);
    const alice = makeDevice();
    const bob = makeDevice();
    const record = new api.SessionRecord();
    const shown = await record.initiate(alice.identity, bob.bundle());
    expect(record.current).toBe(shown);
    for (const name of ['decrypt', 'encrypt']) expect(name in shown).toBe(false);
  });
});

describe('misuse at the API edge', () => {
  it('rejects (never throws synchronously) on non-bytes, oversized and malformed input, with typed codes', async () => {
    const alice = makeDevice();
    const bob = makeDevice();
    const record = new SessionRecord({ limits: { maxPlaintextBytes: 8 } });
    await record.initiate(alice.identity, bob.bundle());
    const notBytes = 'text' as unknown as Uint8Array;
    await expectCode(record.encrypt(notBytes), CryptoErrorCode.InvalidArgument);
    await expectCode(record.encrypt(new Uint8Array(9)), CryptoErrorCode.InvalidArgument);
    await expectCode(record.decrypt(alice.identity, alice.store, notBytes), CryptoErrorCode.InvalidArgument);
    const atBob = new SessionRecord();
    await expectCode(
      atBob.decrypt(bob.identity, bob.store, new Uint8Array([2, 1, 0])),
      CryptoErrorCode.MalformedMessage,
    );
    await expectCode(
      atBob.decrypt(bob.identity, bob.store, new Uint8Array([2, 1, ...new Uint8Array(60)])),
      CryptoErrorCode.LowOrderPoint,
    );
    // Version 1 (AES-GCM) messages are refused by version.
    await expectCode(
      atBob.decrypt(bob.identity, bob.store, new Uint8Array([1, 1, ...new Uint8Array(60)])),
      CryptoErrorCode.UnsupportedVersion,
    );
    const strayNormal = new Uint8Array([2, 1, ...alice.identity.publicKey.subarray(1), ...new Uint8Array(8 + 16 + 8)]);
    await expectCode(atBob.decrypt(bob.identity, bob.store, strayNormal), CryptoErrorCode.InvalidState);
    // Still usable afterwards.
    const { plaintext } = await atBob.decrypt(bob.identity, bob.store, await record.encrypt(enc('ok')));
    expect(dec(plaintext)).toBe('ok');
  });
});
