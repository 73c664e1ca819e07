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
    // One chain step (2 HMACs), the message key (1 HKDF), AES-CBC (1); the signature is XEdDSA (noble, not counted).
    expect(viaNoble.calls()).toBe(4);
    expect(dec(await receiver.decrypt(message))).toBe('g');
    expect(viaNoble.calls()).toBe(4);
    const restored = SenderKeyRecord.deserialize(receiver.serialize(), { primitives: viaNoble.handle });
    expect(dec(await restored.decrypt(await sender.encrypt(enc('h'))))).toBe('h');
    expect(viaNoble.calls()).toBe(12);
    const byDefault = SenderKeyRecord.deserialize(sender.serialize());
    expect(dec(await restored.decrypt(await byDefault.encrypt(enc('i'))))).toBe('i');
  });

  it('a repeated chain id: the same chain is a no-op, another key is refused, never silently kept', async () => {
    const sender = SenderKeyRecord.createForSending();
    const first = sender.createDistributionMessage();
    const receiver = SenderKeyRecord.fromDistributionMessage(first);
    await receiver.decrypt(await sender.encrypt(enc('one')));
    const before = receiver.serialize();
    // The same distribution again, and a later copy of the same chain: nothing changes.
    receiver.processDistributionMessage(first);
    receiver.processDistributionMessage(sender.createDistributionMessage());
    expect(receiver.serialize()).toEqual(before);
    // Same chain id, another chain key (offset 25 = version 1 + id 16 + chain id 4 + iteration 4).
    const otherChainKey = first.slice();
    otherChainKey[25]! ^= 1;
    expect(() => receiver.processDistributionMessage(otherChainKey)).toThrow(
      expect.objectContaining({ code: CryptoErrorCode.InvalidState }),
    );
    // Same chain id, another signing key.
    const otherSigner = SenderKeyRecord.createForSending(sender.distributionId).createDistributionMessage();
    const impostor = first.slice();
    impostor.set(otherSigner.subarray(57), 57);
    expect(() => receiver.processDistributionMessage(impostor)).toThrow(
      expect.objectContaining({ code: CryptoErrorCode.InvalidState }),
    );
    expect(receiver.serialize()).toEqual(before);
    expect(dec(await receiver.decrypt(await sender.encrypt(enc('two'))))).toBe('two');
  });

  it('refuses group messages of version 1 (AES-GCM) by version', async () => {
    const sender = SenderKeyRecord.createForSending();
    const receiver = SenderKeyRecord.fromDistributionMessage(sender.createDistributionMessage());
    const message = await sender.encrypt(enc('v2'));
    const v1 = message.slice();
    v1[0] = 1;
    await expectCode(receiver.decrypt(v1), CryptoErrorCode.UnsupportedVersion);
    expect(dec(await receiver.decrypt(message))).toBe('v2');
  });

  it('restored records are checked for meaning; lowered limits still load them', async () => {
    const sender = SenderKeyRecord.createForSending();
    const receiver = SenderKeyRecord.fromDistributionMessage(sender.createDistributionMessage());
    const msgs = [];
    for (let i = 0; i < 6; i++) msgs.push(await sender.encrypt(enc(`m${i}`)));
    await receiver.decrypt(msgs[5]!); // stores 5 skipped keys
    const lowered = SenderKeyRecord.deserialize(receiver.serialize(), { limits: { maxSenderKeyStoredKeys: 2 } });
    expect(dec(await lowered.decrypt(msgs[4]!))).toBe('m4');
    await expectCode(lowered.decrypt(msgs[0]!), CryptoErrorCode.DuplicateMessage);

    const own = sender.serialize();
    // Layout: version 1 | id 16 | count 4 | chainId 4 | iteration 4 | chainKey 32 | signingPublic 32 | flag 1 | private 32.
    const mismatched = own.slice();
    mismatched[1 + 16 + 4 + 4 + 4 + 32 + 5]! ^= 1; // a byte of the public signing key
    const badFlag = own.slice();
    badFlag[1 + 16 + 4 + 4 + 4 + 32 + 32] = 2;
    for (const bad of [mismatched, badFlag]) {
      expect(() => SenderKeyRecord.deserialize(bad)).toThrow(
        expect.objectContaining({ code: CryptoErrorCode.MalformedMessage }),
      );
    }
  });
});
