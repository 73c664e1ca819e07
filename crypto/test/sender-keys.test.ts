import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CryptoError, CryptoErrorCode, SenderKeyRecord, Session } from '../src/index.ts';
import { dec, enc, makeDevice } from './helpers.ts';

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(CryptoError.is(err), `expected ${code}`).toBe(true);
  expect((err as CryptoError).code).toBe(code);
}

describe('Sender Keys groups', () => {
  it('distributes over 1:1 sessions, decrypts for every member, and locks out a removed member after rotation', async () => {
    const alice = makeDevice();
    const bob = makeDevice();
    const carol = makeDevice();
    const group = crypto.getRandomValues(new Uint8Array(16));
    const aliceSender = SenderKeyRecord.createForSending(group);

    // Distribution travels inside the pairwise sessions.
    const toBob = await Session.initiate(alice.identity, bob.bundle());
    const toCarol = await Session.initiate(alice.identity, carol.bundle());
    const dist = aliceSender.createDistributionMessage();
    const atBob = await Session.accept(bob.identity, bob.store, await toBob.encrypt(dist));
    const atCarol = await Session.accept(carol.identity, carol.store, await toCarol.encrypt(dist));
    const bobView = SenderKeyRecord.fromDistributionMessage(atBob.plaintext);
    const carolView = SenderKeyRecord.fromDistributionMessage(atCarol.plaintext);

    const m1 = await aliceSender.encrypt(enc('hello group'));
    expect(dec(await bobView.decrypt(m1))).toBe('hello group');
    expect(dec(await carolView.decrypt(m1))).toBe('hello group');
    await expectCode(bobView.decrypt(m1), CryptoErrorCode.DuplicateMessage);

    // Carol is removed: Alice rotates and tells Bob only.
    const rotated = aliceSender.rotate();
    bobView.processDistributionMessage(await atBob.session.decrypt(await toBob.encrypt(rotated)));
    const m2 = await aliceSender.encrypt(enc('without carol'));
    expect(dec(await bobView.decrypt(m2))).toBe('without carol');
    await expectCode(carolView.decrypt(m2), CryptoErrorCode.UnknownSenderKey);
  });

  it('decrypts out of order, refuses forged signatures, tampering, other senders and too-far jumps', async () => {
    const sender = SenderKeyRecord.createForSending(undefined, { limits: { maxSenderKeyForwardJumps: 10 } });
    const receiver = SenderKeyRecord.fromDistributionMessage(sender.createDistributionMessage(), {
      limits: { maxSenderKeyForwardJumps: 10 },
    });
    const msgs = [];
    for (let i = 0; i < 5; i++) msgs.push(await sender.encrypt(enc(`g${i}`)));
    for (const i of [4, 1, 3, 0, 2]) expect(dec(await receiver.decrypt(msgs[i]!))).toBe(`g${i}`);

    const next = await sender.encrypt(enc('next'));
    for (const index of [5, 21, next.length - 70, next.length - 1]) {
      const bad = next.slice();
      bad[index]! ^= 1;
      await expect(receiver.decrypt(bad)).rejects.toBeInstanceOf(CryptoError);
    }
    // An impostor who knows the chain (another member) cannot sign as the sender.
    const impostor = SenderKeyRecord.createForSending(sender.distributionId);
    const forged = await impostor.encrypt(enc('forged'));
    const forgedWithChain = forged.slice();
    forgedWithChain.set(next.subarray(17, 21), 17); // claim the sender's chain id
    await expectCode(receiver.decrypt(forgedWithChain), CryptoErrorCode.BadSignature);
    expect(dec(await receiver.decrypt(next))).toBe('next');

    for (let i = 0; i < 11; i++) await sender.encrypt(enc('skip'));
    await expectCode(receiver.decrypt(await sender.encrypt(enc('far'))), CryptoErrorCode.TooManySkipped);
  });

  it('serializes and restores both sides exactly; never prints secrets', async () => {
    const sender = SenderKeyRecord.createForSending();
    const receiver = SenderKeyRecord.fromDistributionMessage(sender.createDistributionMessage());
    const early = await sender.encrypt(enc('early'));
    const late = await sender.encrypt(enc('late'));
    expect(dec(await receiver.decrypt(late))).toBe('late');
    const sender2 = SenderKeyRecord.deserialize(sender.serialize());
    const receiver2 = SenderKeyRecord.deserialize(receiver.serialize());
    expect(receiver2.serialize()).toEqual(receiver.serialize());
    expect(dec(await receiver2.decrypt(early))).toBe('early');
    expect(dec(await receiver2.decrypt(await sender2.encrypt(enc('after'))))).toBe('after');
    expect(inspect(sender)).toContain('redacted');
    expect(() => SenderKeyRecord.deserialize(sender.serialize().subarray(0, 30))).toThrow(CryptoError);
    await expectCode(receiver.encrypt(enc('x')), CryptoErrorCode.InvalidState);
  });
});
