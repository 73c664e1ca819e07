/**
 * Known answers that pin sealed sender v1 (vectors/sealed-sender-vectors.json): from fixed keys
 * and fixed XEdDSA randomness, the exact bytes of a server certificate, a sender certificate,
 * the content and the sealed message (v1, and v2 for two recipients from a fixed seed), on every
 * primitives path. libsignal-client opens the
 * recorded message and validates the recorded certificate, so the pinned bytes are Signal's
 * construction, not only ours. After a deliberate change, re-record with
 * `PULSE_RECORD_VECTORS=1 npx vitest run crypto/test/sealed-sender-vectors.test.ts` and review the diff.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import {
  IdentityChange,
  IdentityKeyStore,
  SenderCertificate as LibsignalSenderCertificate,
  PrivateKey,
  PublicKey,
  sealedSenderDecryptToUsmc,
} from '@signalapp/libsignal-client';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../src/bytes.ts';
import { IdentityKeyPair, identityKeyBytes } from '../src/keys/identity.ts';
import { primitivesHandle } from '../src/primitives/index.ts';
import { ContentHint, UnidentifiedSenderMessageContent } from '../src/sealed-sender/content.ts';
import { sealedSenderDecrypt } from '../src/sealed-sender/open.ts';
import { SenderCertificate } from '../src/sealed-sender/sender-certificate.ts';
import { type CertificateSigner, ServerCertificate } from '../src/sealed-sender/server-certificate.ts';
import { sealedSenderEncrypt } from '../src/sealed-sender/v1.ts';
import { sealedSenderMultiRecipientMessage, sealWithSeed } from '../src/sealed-sender/v2.ts';
import { ALL_PRIMITIVES } from '../src/testing/primitives.ts';
import { scriptedKeys } from '../src/testing/scripted-primitives.ts';
import { xeddsaSignRaw } from '../src/xeddsa.ts';

const FILE = new URL('./vectors/sealed-sender-vectors.json', import.meta.url);
const RECORD = process.env.PULSE_RECORD_VECTORS === '1';
const fill = (n: number, byte: number) => new Uint8Array(n).fill(byte);
const ab = (b: Uint8Array) => new Uint8Array(b) as Uint8Array<ArrayBuffer>;

/** Every input is a fixed byte pattern. */
const inputs = {
  trustRoot: fill(32, 0x21),
  serverKey: fill(32, 0x22),
  aliceIdentity: fill(32, 0x23),
  bobIdentity: fill(32, 0x24),
  ephemeral: fill(32, 0x25),
  serverCertificateRandom: fill(64, 0x26),
  senderCertificateRandom: fill(64, 0x27),
  keyId: 0x0102,
  account: 'alice',
  deviceId: 3,
  expiresAt: Date.UTC(2030, 0, 1),
  inner: fill(40, 0x28),
  groupId: fill(16, 0x29),
  carolIdentity: fill(32, 0x2a),
  v2Seed: fill(32, 0x2b),
};

/** A signer whose XEdDSA randomness (§3.3 Z) is fixed, so its signatures are reproducible. */
function pinnedSigner(identity: IdentityKeyPair, random64: Uint8Array): CertificateSigner {
  return {
    publicKey: identity.publicKey,
    sign: (message) => xeddsaSignRaw(identityKeyBytes(identity).privateKey, message, random64),
  };
}

const alice = IdentityKeyPair.fromPrivateKey(inputs.aliceIdentity);
const bob = IdentityKeyPair.fromPrivateKey(inputs.bobIdentity);
const carol = IdentityKeyPair.fromPrivateKey(inputs.carolIdentity);
const trustRoot = IdentityKeyPair.fromPrivateKey(inputs.trustRoot);

async function compute(primitives = ALL_PRIMITIVES[0]!): Promise<Record<string, string>> {
  const serverKey = IdentityKeyPair.fromPrivateKey(inputs.serverKey);
  const serverCertificate = ServerCertificate.issue(
    inputs.keyId,
    serverKey.publicKey,
    pinnedSigner(trustRoot, inputs.serverCertificateRandom),
  );
  const senderCertificate = SenderCertificate.issue(
    { account: inputs.account, deviceId: inputs.deviceId, identityKey: alice.publicKey, expiresAt: inputs.expiresAt },
    serverCertificate,
    pinnedSigner(serverKey, inputs.senderCertificateRandom),
  );
  const content = new UnidentifiedSenderMessageContent({
    type: 'message',
    senderCertificate,
    content: inputs.inner,
    contentHint: ContentHint.Resendable,
    groupId: inputs.groupId,
  });
  const sealed = await sealedSenderEncrypt(content, {
    sender: alice,
    recipientIdentityKey: bob.publicKey,
    primitives: scriptedKeys(primitives, [inputs.ephemeral]),
  });
  const multi = await sealWithSeed(
    content,
    {
      sender: alice,
      recipientIdentityKeys: [bob.publicKey, carol.publicKey],
      primitives: primitivesHandle(primitives),
    },
    inputs.v2Seed,
  );
  return {
    trustRootPublicKey: toHex(trustRoot.publicKey),
    v2Shared: toHex(multi.shared),
    v2RecipientKeyBob: toHex(multi.recipientKeys[0]!),
    v2RecipientKeyCarol: toHex(multi.recipientKeys[1]!),
    serverCertificate: toHex(serverCertificate.serialize()),
    senderCertificate: toHex(senderCertificate.serialize()),
    content: toHex(content.serialize()),
    sealed: toHex(sealed),
  };
}

class RecipientIdentity extends IdentityKeyStore {
  async getIdentityKey(): Promise<PrivateKey> {
    return PrivateKey.deserialize(ab(inputs.bobIdentity));
  }
  async getLocalRegistrationId(): Promise<number> {
    return 1;
  }
  async saveIdentity(): Promise<IdentityChange> {
    return IdentityChange.NewOrUnchanged;
  }
  async isTrustedIdentity(): Promise<boolean> {
    return true;
  }
  async getIdentity(): Promise<PublicKey | null> {
    return null;
  }
}

describe('sealed sender known answers (vectors/sealed-sender-vectors.json)', () => {
  it('certificates, content and the sealed message equal the recorded bytes on every primitives path', async () => {
    const computed = await compute();
    if (RECORD) writeFileSync(FILE, `${JSON.stringify(computed, null, 2)}\n`);
    const recorded = JSON.parse(readFileSync(FILE, 'utf8')) as Record<string, string>;
    expect(Object.keys(computed).sort()).toEqual(Object.keys(recorded).sort());
    for (const p of ALL_PRIMITIVES) {
      const onPath = await compute(p);
      for (const [name, value] of Object.entries(recorded)) expect(onPath[name], `${name} (${p.name})`).toBe(value);
    }
  });

  it('the recorded message opens with ours and with libsignal; the recorded certificate validates in both', async () => {
    const recorded = JSON.parse(readFileSync(FILE, 'utf8')) as Record<string, string>;
    const sealed = fromHex(recorded.sealed!);
    const opened = await sealedSenderDecrypt(sealed, {
      recipient: { account: 'bob', deviceId: 1, identity: bob },
      trustRoots: [fromHex(recorded.trustRootPublicKey!)],
      now: inputs.expiresAt,
      isExpectedSender: (sender) => toHex(sender.identityKey) === toHex(alice.publicKey),
    });
    expect(toHex(opened.content)).toBe(toHex(inputs.inner));
    expect(opened.sender.account).toBe('alice');

    const theirs = await sealedSenderDecryptToUsmc(ab(sealed), new RecipientIdentity());
    expect(toHex(theirs.serialize())).toBe(recorded.content);
    expect(toHex(theirs.contents())).toBe(toHex(inputs.inner));
    // The recorded v2 message for Bob opens in libsignal too.
    const v2 = sealedSenderMultiRecipientMessage(fromHex(recorded.v2RecipientKeyBob!), fromHex(recorded.v2Shared!));
    expect(toHex((await sealedSenderDecryptToUsmc(ab(v2), new RecipientIdentity())).serialize())).toBe(
      recorded.content,
    );

    const certificate = LibsignalSenderCertificate.deserialize(ab(fromHex(recorded.senderCertificate!)));
    const root = PublicKey.deserialize(ab(fromHex(recorded.trustRootPublicKey!)));
    expect(certificate.validate(root, inputs.expiresAt)).toBe(true);
    expect(certificate.validate(root, inputs.expiresAt + 1)).toBe(false);
  });
});
