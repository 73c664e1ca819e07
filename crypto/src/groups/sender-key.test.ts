import { describe, expect, it } from 'vitest';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { noblePrimitives, primitivesByName } from '../primitives/index.ts';
import { SessionRecord } from '../ratchet/session-record.ts';
import { dec, enc, makeDevice } from '../testing/device.ts';
import { counted } from '../testing/primitives.ts';
import { SenderKeyRecord } from './sender-key.ts';

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
    const toBob = new SessionRecord();
    const toCarol = new SessionRecord();
    await toBob.initiate(alice.identity, bob.bundle());
    await toCarol.initiate(alice.identity, carol.bundle());
    const dist = aliceSender.createDistributionMessage();
    const atBob = new SessionRecord();
    const atCarol = new SessionRecord();
    const bobReceived = await atBob.decrypt(bob.identity, bob.store, await toBob.encrypt(dist));
    const carolReceived = await atCarol.decrypt(carol.identity, carol.store, await toCarol.encrypt(dist));
    const bobView = SenderKeyRecord.fromDistributionMessage(bobReceived.plaintext);
    const carolView = SenderKeyRecord.fromDistributionMessage(carolReceived.plaintext);

    const m1 = await aliceSender.encrypt(enc('hello group'));
    expect(dec(await bobView.decrypt(m1))).toBe('hello group');
    expect(dec(await carolView.decrypt(m1))).toBe('hello group');
    await expectCode(bobView.decrypt(m1), CryptoErrorCode.DuplicateMessage);

    // Carol is removed: Alice rotates and tells Bob only.
    const rotated = aliceSender.rotate();
    bobView.processDistributionMessage(
      (await atBob.decrypt(bob.identity, bob.store, await toBob.encrypt(rotated))).plaintext,
    );
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

  it('serializes and restores both sides exactly', async () => {
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
    expect(() => SenderKeyRecord.deserialize(sender.serialize().subarray(0, 30))).toThrow(CryptoError);
    await expectCode(receiver.encrypt(enc('x')), CryptoErrorCode.InvalidState);
  });

  it('computes with the primitives each record is given; the default and named paths interoperate', async () => {
    const viaNoble = counted(noblePrimitives);
    const sender = SenderKeyRecord.createForSending(undefined, { primitives: viaNoble.handle });
    const receiver = SenderKeyRecord.fromDistributionMessage(sender.createDistributionMessage(), {
      primitives: primitivesByName('webcrypto'),
    });
    const message = await sender.encrypt(enc('g'));
    // One chain step (2 HMACs), the message key (1 HKDF), AES-GCM (1).
    expect(viaNoble.calls()).toBe(4);
    expect(dec(await receiver.decrypt(message))).toBe('g');
    expect(viaNoble.calls()).toBe(4);
    const restored = SenderKeyRecord.deserialize(receiver.serialize(), { primitives: viaNoble.handle });
    expect(dec(await restored.decrypt(await sender.encrypt(enc('h'))))).toBe('h');
    expect(viaNoble.calls()).toBe(12);
    const byDefault = SenderKeyRecord.deserialize(sender.serialize());
    expect(dec(await restored.decrypt(await byDefault.encrypt(enc('i'))))).toBe('i');
  });
});
