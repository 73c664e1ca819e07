import { describe, expect, it } from 'vitest';
import { constantTimeEqual, toHex } from '../bytes.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { generateIdentityKeyPair } from '../keys/identity.ts';
import { primitivesHandle } from '../primitives/index.ts';
import { isPreKeyMessage } from '../ratchet/message.ts';
import { SessionRecord } from '../ratchet/session-record.ts';
import { dec, enc, makeDevice } from '../testing/device.ts';
import { ALL_PRIMITIVES } from '../testing/primitives.ts';
import { DAY_MS, makePki, NOW } from '../testing/sealed-sender.ts';
import { ContentHint, UnidentifiedSenderMessageContent } from './content.ts';
import { type OpenSealedOptions, sealedSenderDecrypt } from './open.ts';
import { ProtoFields } from './protobuf.ts';
import { sealedSenderDecryptToContent } from './unseal.ts';
import { SEALED_SENDER_V1_VERSION_BYTE, sealedSenderEncrypt } from './v1.ts';
import {
  RECIPIENT_KEY_LENGTH,
  SEALED_SENDER_V2_VERSION_BYTE,
  sealedSenderMultiRecipientEncrypt,
  sealedSenderMultiRecipientMessage,
} from './v2.ts';

async function refusal(promise: Promise<unknown>): Promise<CryptoError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(CryptoError.is(err), `expected a CryptoError, got ${String(err)}`).toBe(true);
  return err as CryptoError;
}

function setup() {
  const pki = makePki();
  const alice = generateIdentityKeyPair();
  const bob = generateIdentityKeyPair();
  const certificate = pki.issue(alice, 'alice', 2);
  const content = new UnidentifiedSenderMessageContent({
    type: 'message',
    senderCertificate: certificate,
    content: enc('inner'),
  });
  const options = (overrides: Partial<OpenSealedOptions> = {}): OpenSealedOptions => ({
    recipient: { account: 'bob', deviceId: 1, identity: bob },
    trustRoots: [pki.trustRoot.publicKey],
    now: NOW,
    isExpectedSender: () => true,
    ...overrides,
  });
  return { pki, alice, bob, certificate, content, options };
}

describe('sealed sender v1: seal and open', () => {
  for (const p of ALL_PRIMITIVES) {
    it(`round-trips every field; the wire names neither sender nor content (${p.name} primitives)`, async () => {
      const { alice, bob, certificate, options } = setup();
      const primitives = primitivesHandle(p);
      const groupId = Uint8Array.of(1, 2, 3);
      const content = new UnidentifiedSenderMessageContent({
        type: 'senderkey',
        senderCertificate: certificate,
        content: enc('group message'),
        contentHint: ContentHint.Resendable,
        groupId,
      });
      const sealed = await sealedSenderEncrypt(content, {
        sender: alice,
        recipientIdentityKey: bob.publicKey,
        primitives,
      });
      expect(sealed[0]).toBe(SEALED_SENDER_V1_VERSION_BYTE);
      const wire = toHex(sealed);
      for (const secret of [alice.publicKey, enc('alice'), enc('group message'), groupId]) {
        expect(wire.includes(toHex(secret))).toBe(false);
      }
      const opened = await sealedSenderDecrypt(sealed, options({ primitives }));
      expect(opened.sender).toEqual({ account: 'alice', deviceId: 2, identityKey: alice.publicKey });
      expect(opened.type).toBe('senderkey');
      expect(dec(opened.content)).toBe('group message');
      expect(opened.contentHint).toBe(ContentHint.Resendable);
      expect(opened.groupId).toEqual(groupId);
      // Two seals of one content differ: each has its own ephemeral key.
      const again = await sealedSenderEncrypt(content, {
        sender: alice,
        recipientIdentityKey: bob.publicKey,
        primitives,
      });
      expect(toHex(again)).not.toBe(wire);
    });
  }

  it('carries a Double Ratchet session end to end: the recipient decrypts the inner message with its SessionRecord', async () => {
    const pki = makePki();
    const aliceDevice = makeDevice();
    const bobDevice = makeDevice();
    const atAlice = new SessionRecord();
    await atAlice.initiate(aliceDevice.identity, bobDevice.bundle());
    const inner = await atAlice.encrypt(enc('hello bob'));
    const content = new UnidentifiedSenderMessageContent({
      type: isPreKeyMessage(inner) ? 'prekey' : 'message',
      senderCertificate: pki.issue(aliceDevice.identity, 'alice', 1),
      content: inner,
    });
    const sealed = await sealedSenderEncrypt(content, {
      sender: aliceDevice.identity,
      recipientIdentityKey: bobDevice.identity.publicKey,
    });

    const atBob = new Map<string, SessionRecord>();
    const opened = await sealedSenderDecrypt(sealed, {
      recipient: { account: 'bob', deviceId: 1, identity: bobDevice.identity },
      trustRoots: [pki.trustRoot.publicKey],
      now: NOW,
      // No session with alice.1 yet: accept (trust on first use); with one, compare its identity.
      isExpectedSender: (sender) => {
        const held = atBob.get(`${sender.account}.${sender.deviceId}`)?.current;
        return held ? constantTimeEqual(held.remoteIdentityKey, sender.identityKey) : true;
      },
    });
    expect(opened.type).toBe('prekey');
    const record = new SessionRecord();
    const { plaintext, session } = await record.decrypt(bobDevice.identity, bobDevice.store, opened.content);
    expect(dec(plaintext)).toBe('hello bob');
    expect(toHex(session.remoteIdentityKey)).toBe(toHex(opened.sender.identityKey));
    atBob.set('alice.1', record);

    // A certificate for alice.1 naming another identity key is refused by the caller's check.
    const mallory = generateIdentityKeyPair();
    const impostor = new UnidentifiedSenderMessageContent({
      type: 'message',
      senderCertificate: pki.issue(mallory, 'alice', 1),
      content: enc('x'),
    });
    const forged = await sealedSenderEncrypt(impostor, {
      sender: mallory,
      recipientIdentityKey: bobDevice.identity.publicKey,
    });
    const err = await refusal(
      sealedSenderDecrypt(forged, {
        recipient: { account: 'bob', deviceId: 1, identity: bobDevice.identity },
        trustRoots: [pki.trustRoot.publicKey],
        now: NOW,
        isExpectedSender: (sender) =>
          constantTimeEqual(atBob.get('alice.1')!.current!.remoteIdentityKey, sender.identityKey),
      }),
    );
    expect(err.code).toBe(CryptoErrorCode.SenderMismatch);
  });

  it('refuses expired, untrusted and self-sent messages and a sender the caller does not expect, with typed codes', async () => {
    const { pki, alice, bob, content, options } = setup();
    const sealed = await sealedSenderEncrypt(content, { sender: alice, recipientIdentityKey: bob.publicKey });
    expect((await refusal(sealedSenderDecrypt(sealed, options({ now: NOW + DAY_MS + 1 })))).code).toBe(
      CryptoErrorCode.CertificateExpired,
    );
    const otherRoot = generateIdentityKeyPair().publicKey;
    expect((await refusal(sealedSenderDecrypt(sealed, options({ trustRoots: [otherRoot] })))).code).toBe(
      CryptoErrorCode.UntrustedCertificate,
    );
    expect((await refusal(sealedSenderDecrypt(sealed, options({ revokedServerKeyIds: [1] })))).code).toBe(
      CryptoErrorCode.UntrustedCertificate,
    );
    expect((await refusal(sealedSenderDecrypt(sealed, options({ isExpectedSender: async () => false })))).code).toBe(
      CryptoErrorCode.SenderMismatch,
    );
    // alice.2 opening its own message (sealed to its own identity): libsignal's SealedSenderSelfSend.
    const toSelf = await sealedSenderEncrypt(content, { sender: alice, recipientIdentityKey: alice.publicKey });
    const self = options({ recipient: { account: 'alice', deviceId: 2, identity: alice } });
    expect((await refusal(sealedSenderDecrypt(toSelf, self))).code).toBe(CryptoErrorCode.SealedSenderSelfSend);
    // Another device of the same account is not "self".
    const sibling = options({ recipient: { account: 'alice', deviceId: 3, identity: alice } });
    expect((await sealedSenderDecrypt(toSelf, sibling)).sender.deviceId).toBe(2);
    expect(pki.serverCertificate.keyId).toBe(1);
  });

  it('refuses to seal content whose certificate names another identity than the sender', async () => {
    const { bob, content } = setup();
    const err = await refusal(
      sealedSenderEncrypt(content, { sender: generateIdentityKeyPair(), recipientIdentityKey: bob.publicKey }),
    );
    expect(err.code).toBe(CryptoErrorCode.InvalidArgument);
  });

  it('every one-bit change of a sealed message is refused; only the intended recipient opens it', async () => {
    const { alice, bob, content } = setup();
    const sealed = await sealedSenderEncrypt(content, { sender: alice, recipientIdentityKey: bob.publicKey });
    const codes = new Set<string>();
    for (let i = 0; i < sealed.length; i++) {
      const changed = sealed.slice();
      changed[i]! ^= i === 0 ? 0x40 : 0x01;
      codes.add((await refusal(sealedSenderDecryptToContent(changed, { identity: bob }))).code);
    }
    // Framing bytes fail to parse, key bytes fail as keys or MACs, everything else fails a MAC.
    expect(
      [...codes].every((c) =>
        (
          [
            CryptoErrorCode.UnsupportedVersion,
            CryptoErrorCode.MalformedMessage,
            CryptoErrorCode.DecryptFailed,
            CryptoErrorCode.InvalidKey,
            CryptoErrorCode.LowOrderPoint,
          ] as string[]
        ).includes(c),
      ),
    ).toBe(true);
    expect(codes.has(CryptoErrorCode.DecryptFailed)).toBe(true);
    const eve = generateIdentityKeyPair();
    expect((await refusal(sealedSenderDecryptToContent(sealed, { identity: eve }))).code).toBe(
      CryptoErrorCode.DecryptFailed,
    );
  });

  it('refuses other versions, truncation and messages over maxSealedMessageBytes before any agreement', async () => {
    const { alice, bob, content } = setup();
    const sealed = await sealedSenderEncrypt(content, { sender: alice, recipientIdentityKey: bob.publicKey });
    for (const version of [0x00, 0x01, 0x31, 0xf1]) {
      const other = sealed.slice();
      other[0] = version;
      expect((await refusal(sealedSenderDecryptToContent(other, { identity: bob }))).code).toBe(
        CryptoErrorCode.UnsupportedVersion,
      );
    }
    // (required 1, current 2): a newer sender's message that v1 readers can open.
    const newer = sealed.slice();
    newer[0] = 0x12;
    expect(dec((await sealedSenderDecryptToContent(newer, { identity: bob })).content)).toBe('inner');
    for (const bytes of [new Uint8Array(0), sealed.subarray(0, 1), sealed.subarray(0, sealed.length - 1)]) {
      expect((await refusal(sealedSenderDecryptToContent(bytes, { identity: bob }))).code).toBe(
        CryptoErrorCode.MalformedMessage,
      );
    }
    const limits = { maxSealedMessageBytes: sealed.length - 1 };
    expect((await refusal(sealedSenderDecryptToContent(sealed, { identity: bob, limits }))).code).toBe(
      CryptoErrorCode.MalformedMessage,
    );
    expect(
      dec(
        (
          await sealedSenderDecryptToContent(sealed, {
            identity: bob,
            limits: { maxSealedMessageBytes: sealed.length },
          })
        ).content,
      ),
    ).toBe('inner');
    // The envelope's three fields are all required.
    const fields = ProtoFields.decode(sealed.subarray(1), [1, 2, 3], 'test');
    expect(fields.requiredBytes(1).length).toBe(33);
    expect(fields.requiredBytes(2).length).toBe(33 + 10);
  });
});

describe('sealed sender v2: one encryption for many recipients', () => {
  for (const p of ALL_PRIMITIVES) {
    it(`every recipient opens its message; devices sharing an identity share C and AT (${p.name} primitives)`, async () => {
      const { alice, content, options } = setup();
      const primitives = primitivesHandle(p);
      const bob = generateIdentityKeyPair();
      const carol = generateIdentityKeyPair();
      const keys = [bob.publicKey, carol.publicKey, bob.publicKey];
      const sealed = await sealedSenderMultiRecipientEncrypt(content, {
        sender: alice,
        recipientIdentityKeys: keys,
        primitives,
      });
      expect(sealed.recipientKeys.map((k) => k.length)).toEqual([48, 48, 48]);
      expect(toHex(sealed.recipientKeys[0]!)).toBe(toHex(sealed.recipientKeys[2]!));
      expect(toHex(sealed.recipientKeys[0]!)).not.toBe(toHex(sealed.recipientKeys[1]!));
      for (const [i, identity] of [bob, carol, bob].entries()) {
        const message = sealedSenderMultiRecipientMessage(sealed.recipientKeys[i]!, sealed.shared);
        expect(message[0]).toBe(SEALED_SENDER_V2_VERSION_BYTE);
        const opened = await sealedSenderDecrypt(
          message,
          options({ recipient: { account: 'r', deviceId: i + 1, identity }, primitives }),
        );
        expect(dec(opened.content)).toBe('inner');
        expect(opened.sender.account).toBe('alice');
      }
      // Carol's key does not open Bob's message: the re-derived ephemeral key differs.
      const bobs = sealedSenderMultiRecipientMessage(sealed.recipientKeys[0]!, sealed.shared);
      expect((await refusal(sealedSenderDecryptToContent(bobs, { identity: carol, primitives }))).code).toBe(
        CryptoErrorCode.DecryptFailed,
      );
    });
  }

  it('every one-bit change of a v2 message is refused; the certificate must name the sealing key', async () => {
    const { alice, bob, content } = setup();
    const sealed = await sealedSenderMultiRecipientEncrypt(content, {
      sender: alice,
      recipientIdentityKeys: [bob.publicKey],
    });
    const message = sealedSenderMultiRecipientMessage(sealed.recipientKeys[0]!, sealed.shared);
    const codes = new Set<string>();
    for (let i = 1; i < message.length; i++) {
      const changed = message.slice();
      changed[i]! ^= 0x01;
      codes.add((await refusal(sealedSenderDecryptToContent(changed, { identity: bob }))).code);
    }
    // C or E changed: wrong ephemeral key; ciphertext: GCM-SIV tag; AT: the sender check.
    expect([...codes].sort()).toEqual([CryptoErrorCode.DecryptFailed, CryptoErrorCode.SenderMismatch].sort());
    expect(
      (
        await refusal(
          sealedSenderDecryptToContent(message.subarray(0, 1 + RECIPIENT_KEY_LENGTH + 47), { identity: bob }),
        )
      ).code,
    ).toBe(CryptoErrorCode.MalformedMessage);
    await expect(
      sealedSenderMultiRecipientEncrypt(content, { sender: bob, recipientIdentityKeys: [alice.publicKey] }),
    ).rejects.toMatchObject({ code: CryptoErrorCode.InvalidArgument });
    expect(() => sealedSenderMultiRecipientMessage(new Uint8Array(47), sealed.shared)).toThrow(CryptoError);
  });
});

describe('UnidentifiedSenderMessageContent', () => {
  it('round-trips; Default hint and an empty group id are not written; unknown hints are kept', () => {
    const { certificate } = setup();
    for (const type of ['prekey', 'message', 'senderkey', 'plaintext'] as const) {
      const c = new UnidentifiedSenderMessageContent({
        type,
        senderCertificate: certificate,
        content: enc(type),
        groupId: new Uint8Array(0),
      });
      const back = UnidentifiedSenderMessageContent.deserialize(c.serialize());
      expect(back.type).toBe(type);
      expect(back.contentHint).toBe(0);
      expect(back.groupId).toBeUndefined();
      expect(dec(back.content)).toBe(type);
    }
    for (const hint of [ContentHint.Implicit, 77, 0xfffffffe]) {
      const c = new UnidentifiedSenderMessageContent({
        type: 'message',
        senderCertificate: certificate,
        content: enc('x'),
        contentHint: hint,
      });
      expect(UnidentifiedSenderMessageContent.deserialize(c.serialize()).contentHint).toBe(hint);
    }
    expect(
      () =>
        new UnidentifiedSenderMessageContent({
          type: 'bogus' as never,
          senderCertificate: certificate,
          content: enc('x'),
        }),
    ).toThrow(expect.objectContaining({ code: CryptoErrorCode.InvalidArgument }));
    // Reserved and unknown wire types (3 to 6, 9) are refused.
    const bytes = new UnidentifiedSenderMessageContent({
      type: 'message',
      senderCertificate: certificate,
      content: enc('x'),
    }).serialize();
    for (const wire of [3, 6, 9]) {
      const changed = bytes.slice();
      changed[1] = wire;
      expect(() => UnidentifiedSenderMessageContent.deserialize(changed)).toThrow(
        expect.objectContaining({ code: CryptoErrorCode.MalformedMessage }),
      );
    }
  });
});
