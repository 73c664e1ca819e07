/**
 * Sealed sender against @signalapp/libsignal-client (devDependency): certificates issued by
 * each are accepted (and refused) alike by the other, content encodes to the same bytes, and a
 * message sealed by either side is opened by the other.
 */
import {
  type CiphertextMessage,
  type Direction,
  groupEncrypt,
  IdentityChange,
  IdentityKeyStore,
  KEMKeyPair,
  UnidentifiedSenderMessageContent as LibsignalContent,
  SenderCertificate as LibsignalSenderCertificate,
  type SenderKeyRecord as LibsignalSenderKeyRecord,
  ServerCertificate as LibsignalServerCertificate,
  type SessionRecord as LibsignalSessionRecord,
  sealedSenderMultiRecipientEncrypt as libsignalMultiSeal,
  sealedSenderEncrypt as libsignalSeal,
  PreKeyBundle,
  PrivateKey,
  ProtocolAddress,
  type PublicKey,
  processPreKeyBundle,
  SenderKeyDistributionMessage,
  SenderKeyStore,
  SessionStore,
  sealedSenderDecryptToUsmc,
} from '@signalapp/libsignal-client';
import SealedSenderMultiRecipientMessage from '@signalapp/libsignal-client/dist/SealedSenderMultiRecipientMessage.js';
import { describe, expect, it } from 'vitest';
import { toHex } from '../src/bytes.ts';
import {
  ContentHint,
  CryptoError,
  CryptoErrorCode,
  IdentityKeyPair,
  SenderCertificate,
  ServerCertificate,
  sealedSenderDecrypt,
  sealedSenderEncrypt,
  sealedSenderMultiRecipientEncrypt,
  sealedSenderMultiRecipientMessage,
  UnidentifiedSenderMessageContent,
} from '../src/index.ts';
import { dec, enc } from '../src/testing/device.ts';
import { DAY_MS, NOW } from '../src/testing/sealed-sender.ts';

const ab = (b: Uint8Array) => new Uint8Array(b) as Uint8Array<ArrayBuffer>;
const random32 = () => globalThis.crypto.getRandomValues(new Uint8Array(32));

/** One key in both libraries, from the same 32 private bytes. */
function keyPair() {
  const bytes = random32();
  const ours = IdentityKeyPair.fromPrivateKey(bytes);
  const theirs = PrivateKey.deserialize(ab(bytes));
  expect(toHex(theirs.getPublicKey().serialize())).toBe(toHex(ours.publicKey));
  return { ours, theirs, public: theirs.getPublicKey() };
}

class Identities extends IdentityKeyStore {
  readonly #own: PrivateKey;
  readonly #peers = new Map<string, PublicKey>();
  constructor(own: PrivateKey, peers: [ProtocolAddress, PublicKey][] = []) {
    super();
    this.#own = own;
    for (const [address, key] of peers) this.#peers.set(address.toString(), key);
  }
  async getIdentityKey(): Promise<PrivateKey> {
    return this.#own;
  }
  async getLocalRegistrationId(): Promise<number> {
    return 1;
  }
  async saveIdentity(): Promise<IdentityChange> {
    return IdentityChange.NewOrUnchanged;
  }
  async isTrustedIdentity(_name: ProtocolAddress, _key: PublicKey, _direction: Direction): Promise<boolean> {
    return true;
  }
  async getIdentity(name: ProtocolAddress): Promise<PublicKey | null> {
    return this.#peers.get(name.toString()) ?? null;
  }
}

class Sessions extends SessionStore {
  readonly #map = new Map<string, LibsignalSessionRecord>();
  async saveSession(name: ProtocolAddress, record: LibsignalSessionRecord): Promise<void> {
    this.#map.set(name.toString(), record);
  }
  async getSession(name: ProtocolAddress): Promise<LibsignalSessionRecord | null> {
    return this.#map.get(name.toString()) ?? null;
  }
  async getExistingSessions(addresses: ProtocolAddress[]): Promise<LibsignalSessionRecord[]> {
    return addresses.map((a) => this.#map.get(a.toString())!);
  }
}

class SenderKeys extends SenderKeyStore {
  readonly map = new Map<string, LibsignalSenderKeyRecord>();
  async saveSenderKey(sender: ProtocolAddress, id: string, record: LibsignalSenderKeyRecord): Promise<void> {
    this.map.set(`${sender.toString()}|${id}`, record);
  }
  async getSenderKey(sender: ProtocolAddress, id: string): Promise<LibsignalSenderKeyRecord | null> {
    return this.map.get(`${sender.toString()}|${id}`) ?? null;
  }
}

/** A libsignal CiphertextMessage (a sender-key message) to put inside content. */
async function libsignalInnerMessage(): Promise<CiphertextMessage> {
  const address = ProtocolAddress.new('alice', 1);
  const store = new SenderKeys();
  const distributionId = 'd1d1d1d1-7000-11eb-b32a-33b8a8a487a6';
  await SenderKeyDistributionMessage.create(address, distributionId, store);
  return groupEncrypt(address, distributionId, store, ab(enc('from libsignal')));
}

function pki() {
  const root = keyPair();
  const server = keyPair();
  return { root, server, ours: ServerCertificate.issue(9, server.ours.publicKey, root.ours) };
}

describe('sealed sender certificates: crypto/ and libsignal-client agree', () => {
  it('a certificate we issue is parsed and validated by libsignal, and refused when expired or under another root', () => {
    const { root, server, ours } = pki();
    const alice = keyPair();
    const cert = SenderCertificate.issue(
      { account: 'alice', deviceId: 3, identityKey: alice.ours.publicKey, expiresAt: NOW + DAY_MS },
      ours,
      server.ours,
    );
    const theirs = LibsignalSenderCertificate.deserialize(ab(cert.serialize()));
    expect(theirs.senderUuid()).toBe('alice');
    expect(theirs.senderAci()).toBeNull();
    expect(theirs.senderE164()).toBeNull();
    expect(theirs.senderDeviceId()).toBe(3);
    expect(theirs.expiration()).toBe(NOW + DAY_MS);
    expect(toHex(theirs.key().serialize())).toBe(toHex(alice.ours.publicKey));
    expect(theirs.serverCertificate().keyId()).toBe(9);
    expect(toHex(theirs.serverCertificate().key().serialize())).toBe(toHex(server.ours.publicKey));
    expect(theirs.validate(root.public, NOW)).toBe(true);
    expect(theirs.validate(root.public, NOW + DAY_MS)).toBe(true);
    expect(theirs.validate(root.public, NOW + DAY_MS + 1)).toBe(false);
    expect(theirs.validate(keyPair().public, NOW)).toBe(false);
    expect(theirs.validateWithTrustRoots([keyPair().public, root.public], NOW)).toBe(true);

    // The signed bytes are exactly libsignal's encoding of the same fields.
    const sameFields = LibsignalSenderCertificate.new(
      'alice',
      null,
      3,
      alice.public,
      NOW + DAY_MS,
      LibsignalServerCertificate.deserialize(ab(ours.serialize())),
      server.theirs,
    );
    expect(toHex(cert.certificate)).toBe(toHex(sameFields.certificate()));
    const theirServer = LibsignalServerCertificate.new(9, server.public, root.theirs);
    expect(toHex(ours.certificate)).toBe(toHex(theirServer.certificateData()));
  });

  it("libsignal's certificates are parsed and validated by ours, with the same refusals", () => {
    const root = keyPair();
    const server = keyPair();
    const alice = keyPair();
    const serverCert = LibsignalServerCertificate.new(5, server.public, root.theirs);
    const theirs = LibsignalSenderCertificate.new(
      '9d0652a3-dcc3-4d11-975f-74d61598733f',
      null,
      2,
      alice.public,
      NOW,
      serverCert,
      server.theirs,
    );
    const cert = SenderCertificate.deserialize(theirs.serialize());
    expect(cert.account).toBe('9d0652a3-dcc3-4d11-975f-74d61598733f');
    expect(cert.deviceId).toBe(2);
    expect(cert.expiresAt).toBe(NOW);
    expect(cert.signer.keyId).toBe(5);
    expect(toHex(cert.identityKey)).toBe(toHex(alice.ours.publicKey));
    expect(() => cert.validate({ trustRoots: [root.ours.publicKey], now: NOW })).not.toThrow();
    expect(() => cert.validate({ trustRoots: [root.ours.publicKey], now: NOW + 1 })).toThrow(
      expect.objectContaining({ code: CryptoErrorCode.CertificateExpired }),
    );
    expect(() => cert.validate({ trustRoots: [keyPair().ours.publicKey], now: NOW })).toThrow(
      expect.objectContaining({ code: CryptoErrorCode.UntrustedCertificate }),
    );
    // Signed by a key the server certificate does not certify: both refuse it.
    const rogue = LibsignalSenderCertificate.new('alice', null, 2, alice.public, NOW, serverCert, keyPair().theirs);
    expect(rogue.validate(root.public, NOW)).toBe(false);
    expect(() =>
      SenderCertificate.deserialize(rogue.serialize()).validate({ trustRoots: [root.ours.publicKey], now: NOW }),
    ).toThrow(expect.objectContaining({ code: CryptoErrorCode.UntrustedCertificate }));
    // libsignal's revoked test id is refused by both.
    const revokedServer = LibsignalServerCertificate.new(0xdeadc357, server.public, root.theirs);
    const revoked = LibsignalSenderCertificate.new('alice', null, 2, alice.public, NOW, revokedServer, server.theirs);
    expect(revoked.validate(root.public, NOW)).toBe(false);
    expect(() =>
      SenderCertificate.deserialize(revoked.serialize()).validate({ trustRoots: [root.ours.publicKey], now: NOW }),
    ).toThrow(expect.objectContaining({ code: CryptoErrorCode.UntrustedCertificate }));
  });
});

describe('sealed sender v1: crypto/ and libsignal-client open each other', () => {
  it('content encodes to the bytes libsignal encodes, for every field', async () => {
    const { server, ours } = pki();
    const alice = keyPair();
    const cert = SenderCertificate.issue(
      { account: 'alice', deviceId: 1, identityKey: alice.ours.publicKey, expiresAt: NOW },
      ours,
      server.ours,
    );
    const inner = await libsignalInnerMessage();
    const theirCert = LibsignalSenderCertificate.deserialize(ab(cert.serialize()));
    for (const [hint, groupId] of [
      [ContentHint.Default, null],
      [ContentHint.Resendable, Uint8Array.of(7, 7)],
      [ContentHint.Implicit, new Uint8Array(0)],
    ] as const) {
      const theirs = LibsignalContent.new(inner, theirCert, hint, groupId === null ? null : ab(groupId));
      const mine = new UnidentifiedSenderMessageContent({
        type: 'senderkey',
        senderCertificate: cert,
        content: inner.serialize(),
        contentHint: hint,
        ...(groupId === null ? {} : { groupId }),
      });
      expect(toHex(mine.serialize())).toBe(toHex(theirs.serialize()));
      const back = UnidentifiedSenderMessageContent.deserialize(theirs.serialize());
      expect(back.contentHint).toBe(hint);
      expect(back.type).toBe('senderkey');
    }
  });

  it('a message we seal is opened by libsignal sealedSenderDecryptToUsmc, whose certificate validates', async () => {
    const { root, server, ours } = pki();
    const alice = keyPair();
    const bob = keyPair();
    const cert = SenderCertificate.issue(
      { account: 'alice', deviceId: 4, identityKey: alice.ours.publicKey, expiresAt: NOW + DAY_MS },
      ours,
      server.ours,
    );
    const expectedType = { prekey: 3, message: 2, senderkey: 7, plaintext: 8 } as const;
    for (const type of ['prekey', 'message', 'senderkey', 'plaintext'] as const) {
      const content = new UnidentifiedSenderMessageContent({
        type,
        senderCertificate: cert,
        content: enc(`a ${type} message`),
        contentHint: ContentHint.Implicit,
        groupId: Uint8Array.of(1, 2, 3),
      });
      const sealed = await sealedSenderEncrypt(content, {
        sender: alice.ours,
        recipientIdentityKey: bob.ours.publicKey,
      });
      const opened = await sealedSenderDecryptToUsmc(ab(sealed), new Identities(bob.theirs));
      expect(opened.msgType()).toBe(expectedType[type]);
      expect(dec(opened.contents())).toBe(`a ${type} message`);
      expect(opened.contentHint()).toBe(ContentHint.Implicit);
      expect(toHex(opened.groupId()!)).toBe('010203');
      expect(toHex(opened.serialize())).toBe(toHex(content.serialize()));
      const sender = opened.senderCertificate();
      expect(sender.senderUuid()).toBe('alice');
      expect(sender.senderDeviceId()).toBe(4);
      expect(sender.validate(root.public, NOW)).toBe(true);

      // Tampered anywhere after the version byte, libsignal refuses it too.
      const tampered = sealed.slice();
      tampered[sealed.length - 20]! ^= 1;
      await expect(sealedSenderDecryptToUsmc(ab(tampered), new Identities(bob.theirs))).rejects.toThrow();
    }
  });

  it('a message libsignal seals is opened by ours; a mismatched, expired or foreign certificate is refused', async () => {
    const { root, server, ours } = pki();
    const alice = keyPair();
    const bob = keyPair();
    const bobAddress = ProtocolAddress.new('bob', 1);
    const aliceStore = new Identities(alice.theirs, [[bobAddress, bob.public]]);
    const issue = (identityKey: Uint8Array, expiresAt = NOW + DAY_MS) =>
      LibsignalSenderCertificate.deserialize(
        ab(
          SenderCertificate.issue(
            { account: 'alice', deviceId: 1, identityKey, expiresAt },
            ours,
            server.ours,
          ).serialize(),
        ),
      );
    const inner = await libsignalInnerMessage();
    const seal = (cert: LibsignalSenderCertificate) =>
      libsignalSeal(
        LibsignalContent.new(inner, cert, ContentHint.Resendable, ab(Uint8Array.of(9))),
        bobAddress,
        aliceStore,
      );
    const options = {
      recipient: { account: 'bob', deviceId: 1, identity: bob.ours },
      trustRoots: [root.ours.publicKey],
      now: NOW,
      isExpectedSender: () => true,
    };

    const sealed = await seal(issue(alice.ours.publicKey));
    expect(sealed[0]).toBe(0x11);
    const opened = await sealedSenderDecrypt(sealed, options);
    expect(opened.sender).toEqual({ account: 'alice', deviceId: 1, identityKey: alice.ours.publicKey });
    expect(opened.type).toBe('senderkey');
    expect(toHex(opened.content)).toBe(toHex(inner.serialize()));
    expect(opened.contentHint).toBe(ContentHint.Resendable);
    expect(toHex(opened.groupId!)).toBe('09');

    const code = async (bytes: Uint8Array, overrides = {}) =>
      sealedSenderDecrypt(bytes, { ...options, ...overrides }).then(
        () => 'opened',
        (e: unknown) => (e instanceof CryptoError ? e.code : String(e)),
      );
    // libsignal seals without checking the certificate names the sealing key; the recipient refuses.
    expect(await code(await seal(issue(keyPair().ours.publicKey)))).toBe(CryptoErrorCode.SenderMismatch);
    expect(await code(await seal(issue(alice.ours.publicKey, NOW - 1)))).toBe(CryptoErrorCode.CertificateExpired);
    expect(await code(sealed, { trustRoots: [keyPair().ours.publicKey] })).toBe(CryptoErrorCode.UntrustedCertificate);
    const tampered = sealed.slice();
    tampered[sealed.length - 1]! ^= 1;
    expect(await code(tampered)).toBe(CryptoErrorCode.DecryptFailed);
  });
});

describe('sealed sender v2 (multi-recipient): crypto/ and libsignal-client open each other', () => {
  it('each recipient of a message we seal once opens its part with libsignal', async () => {
    const { root, server, ours } = pki();
    const alice = keyPair();
    const recipients = [keyPair(), keyPair(), keyPair()];
    const cert = SenderCertificate.issue(
      { account: 'alice', deviceId: 1, identityKey: alice.ours.publicKey, expiresAt: NOW },
      ours,
      server.ours,
    );
    const content = new UnidentifiedSenderMessageContent({
      type: 'senderkey',
      senderCertificate: cert,
      content: enc('to the group'),
      groupId: Uint8Array.of(4, 2),
    });
    const sealed = await sealedSenderMultiRecipientEncrypt(content, {
      sender: alice.ours,
      recipientIdentityKeys: recipients.map((r) => r.ours.publicKey),
    });
    for (const [i, recipient] of recipients.entries()) {
      const message = sealedSenderMultiRecipientMessage(sealed.recipientKeys[i]!, sealed.shared);
      const opened = await sealedSenderDecryptToUsmc(ab(message), new Identities(recipient.theirs));
      expect(dec(opened.contents())).toBe('to the group');
      expect(toHex(opened.serialize())).toBe(toHex(content.serialize()));
      expect(opened.senderCertificate().validate(root.public, NOW)).toBe(true);
      // A changed authentication tag is refused by libsignal as by us.
      const tampered = message.slice();
      tampered[40]! ^= 1;
      await expect(sealedSenderDecryptToUsmc(ab(tampered), new Identities(recipient.theirs))).rejects.toThrow();
    }
  });

  it("libsignal's multi-recipient message, fanned out by its own parser, is opened by ours", async () => {
    const { root, server, ours } = pki();
    const alice = keyPair();
    const aliceAddress = ProtocolAddress.new('9d0652a3-dcc3-4d11-975f-74d61598733f', 1);
    const sessions = new Sessions();
    const recipients = ['aaaaaaaa-7000-11eb-b32a-33b8a8a487a6', 'bbbbbbbb-7000-11eb-b32a-33b8a8a487a6'].map(
      (uuid, i) => {
        const identity = keyPair();
        return { uuid, identity, address: ProtocolAddress.new(uuid, 1), registrationId: 100 + i };
      },
    );
    const aliceStore = new Identities(
      alice.theirs,
      recipients.map((r) => [r.address, r.identity.public]),
    );
    // libsignal needs a session per recipient (its registration id goes on the wire).
    for (const r of recipients) {
      const signed = PrivateKey.generate();
      const kyber = KEMKeyPair.generate();
      const bundle = PreKeyBundle.new(
        r.registrationId,
        1,
        null,
        null,
        1,
        signed.getPublicKey(),
        r.identity.theirs.sign(signed.getPublicKey().serialize()),
        r.identity.public,
        2,
        kyber.getPublicKey(),
        r.identity.theirs.sign(kyber.getPublicKey().serialize()),
      );
      await processPreKeyBundle(bundle, r.address, aliceAddress, sessions, aliceStore);
    }
    const certFor = (identityKey: Uint8Array) =>
      LibsignalSenderCertificate.deserialize(
        ab(
          SenderCertificate.issue(
            { account: 'alice', deviceId: 1, identityKey, expiresAt: NOW },
            ours,
            server.ours,
          ).serialize(),
        ),
      );
    const inner = await libsignalInnerMessage();
    const fanOut = async (cert: LibsignalSenderCertificate) => {
      const sent = await libsignalMultiSeal({
        content: LibsignalContent.new(inner, cert, ContentHint.Implicit, ab(Uint8Array.of(5))),
        recipients: recipients.map((r) => r.address),
        identityStore: aliceStore,
        sessionStore: sessions,
      });
      const parsed = new SealedSenderMultiRecipientMessage(sent);
      const byId = parsed.recipientsByServiceIdString();
      return recipients.map((r) => parsed.messageForRecipient(byId[r.uuid]!));
    };
    const messages = await fanOut(certFor(alice.ours.publicKey));
    for (const [i, r] of recipients.entries()) {
      expect(messages[i]![0]! >> 4).toBe(2);
      const opened = await sealedSenderDecrypt(messages[i]!, {
        recipient: { account: r.uuid, deviceId: 1, identity: r.identity.ours },
        trustRoots: [root.ours.publicKey],
        now: NOW,
        isExpectedSender: (sender) => toHex(sender.identityKey) === toHex(alice.ours.publicKey),
      });
      expect(toHex(opened.content)).toBe(toHex(inner.serialize()));
      expect(opened.contentHint).toBe(ContentHint.Implicit);
      expect(toHex(opened.groupId!)).toBe('05');
    }
    // libsignal seals v2 without checking the certificate names the sealing key; the tag check refuses it.
    const [impostor] = await fanOut(certFor(keyPair().ours.publicKey));
    await expect(
      sealedSenderDecrypt(impostor!, {
        recipient: { account: recipients[0]!.uuid, deviceId: 1, identity: recipients[0]!.identity.ours },
        trustRoots: [root.ours.publicKey],
        now: NOW,
        isExpectedSender: () => true,
      }),
    ).rejects.toMatchObject({ code: CryptoErrorCode.SenderMismatch });
  });
});
