/**
 * Every decoder validates before it trusts: random bytes and random mutations of valid
 * encodings either decode or fail with a CryptoError, never a TypeError, RangeError or a
 * hang. (A server or client feeding peer bytes to crypto/ only ever sees typed errors.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CryptoError,
  deserializePublicKey,
  IdentityKeyPair,
  OneTimePreKey,
  PqPreKey,
  SenderCertificate,
  SenderKeyRecord,
  ServerCertificate,
  SessionRecord,
  SignedPreKey,
  sealedSenderDecrypt,
  sealedSenderEncrypt,
  sealedSenderMultiRecipientEncrypt,
  sealedSenderMultiRecipientMessage,
  UnidentifiedSenderMessageContent,
  xeddsaVerify,
} from '../src/index.ts';
import { enc, makeDevice } from '../src/testing/device.ts';
import { makePki, NOW } from '../src/testing/sealed-sender.ts';

async function refused(run: () => unknown): Promise<void> {
  const outcome = await Promise.resolve()
    .then(run)
    .then(
      () => 'accepted',
      (err: unknown) => (err instanceof CryptoError ? 'refused' : err),
    );
  expect(outcome).toBe('refused');
}

/** A mutated sealed message: refused with a typed error, or opened to the genuine sender and content ('x'). */
async function refusedOrUnchanged(
  run: () => Promise<{ sender: { account: string }; content: Uint8Array }>,
): Promise<void> {
  const outcome = await run().then(
    (opened) =>
      opened.sender.account === 'alice' && new TextDecoder().decode(opened.content) === 'x' ? 'unchanged' : 'changed',
    (err: unknown) => (err instanceof CryptoError ? 'refused' : err),
  );
  expect(['refused', 'unchanged']).toContain(outcome);
}

async function typedOrOk(run: () => unknown): Promise<void> {
  try {
    await run();
  } catch (err) {
    if (!(err instanceof CryptoError)) throw err;
  }
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Random bytes, or a valid encoding with random bytes flipped, truncated or appended (never the valid bytes). */
function mutations(valid: Uint8Array) {
  return fc
    .oneof(
      fc.uint8Array({ maxLength: 4000 }),
      fc
        .tuple(
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 4 }),
          fc.nat(),
          fc.uint8Array({ maxLength: 8 }),
        )
        .map(([flips, cut, tail]) => {
          const bytes = valid.slice();
          for (const [at, x] of flips) bytes[at % bytes.length]! ^= x;
          const kept = bytes.subarray(0, bytes.length - (cut % 3 === 0 ? cut % bytes.length : 0));
          return Uint8Array.of(...kept, ...tail);
        }),
    )
    .filter((bytes) => !sameBytes(bytes, valid));
}

describe('hostile input to every decoder', () => {
  it('session messages (initial and normal), session records and single stored sessions', async () => {
    const alice = makeDevice();
    const bob = makeDevice();
    const a = new SessionRecord();
    await a.initiate(alice.identity, bob.bundle());
    const initial = await a.encrypt(enc('first'));
    const b = new SessionRecord();
    await b.decrypt(bob.identity, bob.store, initial);
    const normal = await b.encrypt(enc('reply'));
    const state = b.current!.serialize();
    const record = new SessionRecord();
    await record.initiate(alice.identity, bob.bundle());
    const recordBytes = record.serialize();
    await fc.assert(
      fc.asyncProperty(
        mutations(initial),
        mutations(normal),
        mutations(state),
        mutations(recordBytes),
        async (m1, m2, st, rec) => {
          await typedOrOk(() => SessionRecord.deserialize(rec));
          // Anything but the genuine bytes is refused, with a typed error.
          await refused(() => b.decrypt(bob.identity, bob.store, m1));
          await refused(() => new SessionRecord().decrypt(bob.identity, bob.store, m1));
          await refused(() => a.decrypt(alice.identity, alice.store, m2));
          await typedOrOk(() => SessionRecord.fromSerializedSession(st));
        },
      ),
      { numRuns: 150 },
    );
    // The genuine reply still decrypts: nothing above changed Alice's state.
    expect(new TextDecoder().decode((await a.decrypt(alice.identity, alice.store, normal)).plaintext)).toBe('reply');
  });

  it('sealed sender: certificates, content, and v1 and v2 messages', async () => {
    const pki = makePki();
    const alice = IdentityKeyPair.generate();
    const bob = IdentityKeyPair.generate();
    const certificate = pki.issue(alice, 'alice', 1);
    const content = new UnidentifiedSenderMessageContent({
      type: 'message',
      senderCertificate: certificate,
      content: enc('x'),
    });
    const v1 = await sealedSenderEncrypt(content, { sender: alice, recipientIdentityKey: bob.publicKey });
    const multi = await sealedSenderMultiRecipientEncrypt(content, {
      sender: alice,
      recipientIdentityKeys: [bob.publicKey],
    });
    const v2 = sealedSenderMultiRecipientMessage(multi.recipientKeys[0]!, multi.shared);
    const open = (bytes: Uint8Array) =>
      sealedSenderDecrypt(bytes, {
        recipient: { account: 'bob', deviceId: 1, identity: bob },
        trustRoots: [pki.trustRoot.publicKey],
        now: NOW,
        isExpectedSender: () => true,
      });
    await fc.assert(
      fc.asyncProperty(
        mutations(v1),
        mutations(v2),
        mutations(certificate.serialize()),
        mutations(pki.serverCertificate.serialize()),
        mutations(content.serialize()),
        async (m1, m2, cert, server, usmc) => {
          // The low nibble of the version byte is the writer's version: a reader ignores it.
          const onlyWriterVersion = (m: Uint8Array, valid: Uint8Array) =>
            m.length === valid.length && m[0]! >> 4 === valid[0]! >> 4 && sameBytes(m.subarray(1), valid.subarray(1));
          // Refused, or opened to the very same sender and content: protobuf readers skip unknown
          // fields (libsignal's too), so an appended unknown field changes nothing authenticated.
          if (!onlyWriterVersion(m1, v1)) await refusedOrUnchanged(() => open(m1));
          if (!onlyWriterVersion(m2, v2)) await refusedOrUnchanged(() => open(m2));
          await typedOrOk(() =>
            SenderCertificate.deserialize(cert).validate({ trustRoots: [pki.trustRoot.publicKey], now: NOW }),
          );
          await typedOrOk(() => ServerCertificate.deserialize(server));
          await typedOrOk(() => UnidentifiedSenderMessageContent.deserialize(usmc));
        },
      ),
      { numRuns: 150 },
    );
    expect((await open(v1)).sender.account).toBe('alice');
    expect((await open(v2)).sender.account).toBe('alice');
  });

  it('sender key messages, distribution messages and records', async () => {
    const sender = SenderKeyRecord.createForSending();
    const distribution = sender.createDistributionMessage();
    const receiver = SenderKeyRecord.fromDistributionMessage(distribution);
    const message = await sender.encrypt(enc('group'));
    const record = receiver.serialize();
    await fc.assert(
      fc.asyncProperty(mutations(message), mutations(distribution), mutations(record), async (m, d, r) => {
        await refused(() => receiver.decrypt(m));
        await typedOrOk(() => SenderKeyRecord.fromDistributionMessage(d));
        await typedOrOk(() => SenderKeyRecord.deserialize(r));
      }),
      { numRuns: 150 },
    );
    expect(new TextDecoder().decode(await receiver.decrypt(message))).toBe('group');
  });

  it('keys, prekey records and signatures', async () => {
    const device = makeDevice();
    const identity = device.identity.serialize();
    const signed = device.store.getSignedPreKey(1)!.serialize();
    const oneTime = [...device.store.oneTimePreKeys.values()][0]!.serialize();
    const pq = [...device.store.pqPreKeys.values()][0]!.serialize();
    const signature = device.identity.sign(enc('m'));
    await fc.assert(
      fc.asyncProperty(
        mutations(identity),
        mutations(signed),
        mutations(oneTime),
        mutations(pq),
        mutations(signature),
        mutations(device.identity.publicKey),
        async (id, s, o, p, sig, pub) => {
          await typedOrOk(() => IdentityKeyPair.deserialize(id));
          await typedOrOk(() => SignedPreKey.deserialize(s));
          await typedOrOk(() => OneTimePreKey.deserialize(o));
          await typedOrOk(() => PqPreKey.deserialize(p));
          await typedOrOk(() => deserializePublicKey(pub));
          expect(typeof xeddsaVerify(pub, enc('m'), sig)).toBe('boolean');
        },
      ),
      { numRuns: 100 },
    );
  });
});
