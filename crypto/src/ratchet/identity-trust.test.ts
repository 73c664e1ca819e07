/**
 * The identity-trust hook (libsignal is_trusted_identity): consulted before a session is
 * built or takes over; a refusal leaves the record and the prekeys exactly as they were.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../bytes.ts';
import { CryptoErrorCode } from '../errors.ts';
import { dec, enc, makeDevice } from '../testing/device.ts';
import { Direction, type IsTrustedIdentity } from './identity-trust.ts';
import { SessionRecord } from './session-record.ts';

const untrusted = expect.objectContaining({ code: CryptoErrorCode.UntrustedIdentity });

/** Trusts exactly the keys in `trusted`, and logs every question. */
function trustOnly(trusted: Uint8Array[]) {
  const asked: Array<[string, Direction]> = [];
  const check: IsTrustedIdentity = (key, direction) => {
    asked.push([toHex(key), direction]);
    return trusted.some((t) => toHex(t) === toHex(key));
  };
  return { check, asked, trusted };
}

describe('SessionRecord identity-trust hook', () => {
  it('a prekey message from another identity does not replace the current session when the hook refuses', async () => {
    const alice = makeDevice();
    const mallory = makeDevice();
    const bob = makeDevice();
    const atBob = new SessionRecord();
    const atAlice = new SessionRecord();
    await atAlice.initiate(alice.identity, bob.bundle());
    await atBob.decrypt(bob.identity, bob.store, await atAlice.encrypt(enc('hi, it is alice')));
    const trust = trustOnly([alice.identity.publicKey]);

    // Mallory (valid prekeys of her own, so her message authenticates) writes as if she were Alice's device.
    const atMallory = new SessionRecord();
    await atMallory.initiate(mallory.identity, bob.bundle({ lastResort: true }));
    const impostor = await atMallory.encrypt(enc('it is alice, really'));
    const recordBefore = atBob.serialize();
    const oneTimeBefore = [...bob.store.oneTimePreKeys.keys()];
    const pqBefore = [...bob.store.pqPreKeys.keys()];
    await expect(atBob.decrypt(bob.identity, bob.store, impostor, { isTrustedIdentity: trust.check })).rejects.toEqual(
      untrusted,
    );
    expect(trust.asked).toEqual([[toHex(mallory.identity.publicKey), Direction.Receiving]]);
    expect(atBob.serialize()).toEqual(recordBefore);
    expect([...bob.store.oneTimePreKeys.keys()]).toEqual(oneTimeBefore);
    expect([...bob.store.pqPreKeys.keys()]).toEqual(pqBefore);
    expect(atBob.current!.remoteIdentityKey).toEqual(alice.identity.publicKey);

    // Alice's session goes on; the current session needs no question.
    const next = await atAlice.encrypt(enc('still me'));
    expect(
      dec((await atBob.decrypt(bob.identity, bob.store, next, { isTrustedIdentity: trust.check })).plaintext),
    ).toBe('still me');
    expect(trust.asked).toHaveLength(1);

    // Once the user accepts the new identity, the very same message builds its session.
    trust.trusted.push(mallory.identity.publicKey);
    const accepted = await atBob.decrypt(bob.identity, bob.store, impostor, { isTrustedIdentity: trust.check });
    expect(dec(accepted.plaintext)).toBe('it is alice, really');
    expect(accepted.isNewSession).toBe(true);
    expect(atBob.current!.remoteIdentityKey).toEqual(mallory.identity.publicKey);
  });

  it('initiate asks with Sending before any work and leaves the record unchanged when refused', async () => {
    const alice = makeDevice();
    const bob = makeDevice();
    const record = new SessionRecord();
    const trust = trustOnly([]);
    await expect(record.initiate(alice.identity, bob.bundle(), { isTrustedIdentity: trust.check })).rejects.toEqual(
      untrusted,
    );
    expect(trust.asked).toEqual([[toHex(bob.identity.publicKey), Direction.Sending]]);
    expect(record.size).toBe(0);
    // An async check works the same; the record-wide check applies when a call gives none.
    const asyncYes: IsTrustedIdentity = async () => true;
    await record.initiate(alice.identity, bob.bundle(), { isTrustedIdentity: asyncYes });
    const refusing = new SessionRecord({ isTrustedIdentity: () => false });
    await expect(refusing.initiate(alice.identity, bob.bundle())).rejects.toEqual(untrusted);
    await refusing.initiate(alice.identity, bob.bundle(), { isTrustedIdentity: asyncYes });
    expect(refusing.size).toBe(1);
  });

  it('an archived session of an identity no longer trusted does not become current again', async () => {
    const bob = makeDevice();
    const oldAlice = makeDevice();
    const newAlice = makeDevice(); // Alice re-registered: a new identity on the same device address
    const atBob = new SessionRecord();
    const oldSide = new SessionRecord();
    await oldSide.initiate(oldAlice.identity, bob.bundle());
    await atBob.decrypt(bob.identity, bob.store, await oldSide.encrypt(enc('old 1')));
    const late = await (async () => {
      await oldSide.decrypt(oldAlice.identity, oldAlice.store, await atBob.encrypt(enc('reply')));
      return oldSide.encrypt(enc('old 2, delivered late'));
    })();
    const newSide = new SessionRecord();
    await newSide.initiate(newAlice.identity, bob.bundle({ lastResort: true }));
    await atBob.decrypt(bob.identity, bob.store, await newSide.encrypt(enc('new 1')));
    expect(atBob.current!.remoteIdentityKey).toEqual(newAlice.identity.publicKey);

    const trust = trustOnly([newAlice.identity.publicKey]);
    const before = atBob.serialize();
    await expect(atBob.decrypt(bob.identity, bob.store, late, { isTrustedIdentity: trust.check })).rejects.toEqual(
      untrusted,
    );
    expect(trust.asked).toEqual([[toHex(oldAlice.identity.publicKey), Direction.Receiving]]);
    expect(atBob.serialize()).toEqual(before);
    // Without a check (or with one that trusts it) the late message decrypts and its session takes over, as before.
    expect(dec((await atBob.decrypt(bob.identity, bob.store, late)).plaintext)).toBe('old 2, delivered late');
    expect(atBob.current!.remoteIdentityKey).toEqual(oldAlice.identity.publicKey);
  });

  it('the check gets a copy of the key: changing it changes nothing', async () => {
    const alice = makeDevice();
    const bob = makeDevice();
    const record = new SessionRecord();
    await record.initiate(alice.identity, bob.bundle(), {
      isTrustedIdentity: (key) => {
        key.fill(0);
        return true;
      },
    });
    expect(record.current!.remoteIdentityKey).toEqual(bob.identity.publicKey);
  });
});
