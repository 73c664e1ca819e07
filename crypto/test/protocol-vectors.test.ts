/**
 * Known answers that pin the protocol: the PQXDH and X3DH shared secrets, the root, chain
 * and message keys, and the exact wire bytes of a prekey message, normal messages both ways,
 * a sender-key distribution and a sender-key message, all from fixed keys and randomness
 * (vectors/protocol-vectors.json). A changed info string, key order, header layout or MAC input
 * fails here. After a deliberate protocol change (with a version bump), re-record with
 * `PULSE_RECORD_VECTORS=1 npx vitest run crypto/test/protocol-vectors.test.ts` and review the diff.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { x25519 } from '@noble/curves/ed25519.js';
import { ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { describe, expect, it, vi } from 'vitest';
import { concatBytes, fromHex, toHex } from '../src/bytes.ts';
import { ByteWriter } from '../src/codec.ts';
import { dh } from '../src/dh.ts';
import { SenderKeyRecord } from '../src/groups/sender-key.ts';
import { kdfChainKey, kdfRootKey, messageKeys, senderMessageKeys } from '../src/kdf.ts';
import { clampPrivateKey, KeyPair } from '../src/keys/curve.ts';
import { IdentityKeyPair } from '../src/keys/identity.ts';
import { KemKeyPair } from '../src/keys/kem.ts';
import { OneTimePreKey, PqPreKey, SignedPreKey } from '../src/keys/prekeys.ts';
import { noblePrimitives, primitivesHandle } from '../src/primitives/index.ts';
import { SessionRecord } from '../src/ratchet/session-record.ts';
import { InMemoryPrekeyStore } from '../src/store.ts';
import { scriptedKeys } from '../src/testing/scripted-primitives.ts';
import { responderAgreement } from '../src/x3dh.ts';
import { xeddsaVerifyRaw } from '../src/xeddsa.ts';

// ML-KEM encapsulation draws 32 random bytes; the vectors fix them (FIPS 203 §6.2 m).
const kemRandomness = vi.hoisted(() => new Uint8Array(32).fill(0x4b));
vi.mock('../src/keys/kem.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../src/keys/kem.ts')>();
  const { ml_kem1024: kem } = await import('@noble/post-quantum/ml-kem.js');
  return { ...original, kemEncapsulate: (publicKey: Uint8Array) => kem.encapsulate(publicKey, kemRandomness) };
});

const FILE = new URL('./vectors/protocol-vectors.json', import.meta.url);
const RECORD = process.env.PULSE_RECORD_VECTORS === '1';
const enc = (s: string) => new TextEncoder().encode(s);
const fill = (n: number, byte: number) => new Uint8Array(n).fill(byte);

/** Every input is a fixed byte pattern: the vectors need no file to be reproduced. */
const inputs = {
  aliceIdentity: fill(32, 0x01),
  bobIdentity: fill(32, 0x02),
  bobSignedPreKey: fill(32, 0x03),
  bobOneTimePreKey: fill(32, 0x04),
  bobKemSeed: fill(64, 0x05),
  aliceBaseKey: fill(32, 0x06),
  aliceRatchet1: fill(32, 0x07),
  aliceRatchet2: fill(32, 0x08),
  bobRatchet1: fill(32, 0x09),
  bobRatchet2: fill(32, 0x0d),
  senderChainKey: fill(32, 0x0a),
  senderSigningKey: fill(32, 0x0b),
  distributionId: fill(16, 0x0c),
};

async function compute(): Promise<Record<string, string>> {
  const p = noblePrimitives;
  const alice = IdentityKeyPair.fromPrivateKey(inputs.aliceIdentity);
  const bob = IdentityKeyPair.fromPrivateKey(inputs.bobIdentity);
  const spk = new SignedPreKey(1, new KeyPair(inputs.bobSignedPreKey), fill(64, 0), 0);
  const opk = new OneTimePreKey(10, new KeyPair(inputs.bobOneTimePreKey));
  const kemPair = ml_kem1024.keygen(inputs.bobKemSeed);
  const pq = new PqPreKey(100, new KemKeyPair(kemPair.publicKey, kemPair.secretKey), fill(64, 0), false);
  const store = () => new InMemoryPrekeyStore().addSignedPreKey(spk).addOneTimePreKeys([opk]).addPqPreKey(pq);
  const bundle = {
    identityKey: bob.publicKey,
    signedPreKey: { keyId: 1, publicKey: spk.toPublic().publicKey, signature: bob.sign(spk.toPublic().publicKey) },
    oneTimePreKey: opk.toPublic(),
    pqPreKey: { keyId: 100, publicKey: pq.toPublic().publicKey, signature: bob.sign(pq.toPublic().publicKey) },
  };
  const baseKey = x25519.getPublicKey(clampPrivateKey(inputs.aliceBaseKey));
  const { cipherText } = ml_kem1024.encapsulate(kemPair.publicKey, kemRandomness);

  // X3DH §3.3 / PQXDH §3.3 shared secrets, as Bob repeats them (no randomness on his side).
  const header = { identityKey: alice.publicKey, baseKey, signedPreKeyId: 1, oneTimePreKeyId: 10 };
  const pqxdh = await responderAgreement(p, bob, store(), { ...header, pqPreKeyId: 100, kemCipherText: cipherText });
  const x3dh = await responderAgreement(p, bob, store(), header, { allowClassicalX3dh: true });
  // Double Ratchet §3.3 RatchetInitAlice, §5.2 KDF_RK / KDF_CK, libsignal's message keys.
  const ratchetA1 = { privateKey: clampPrivateKey(inputs.aliceRatchet1), publicKey: new Uint8Array() };
  ratchetA1.publicKey = x25519.getPublicKey(ratchetA1.privateKey);
  const root = await kdfRootKey(p, pqxdh.sharedSecret, await dh(p, ratchetA1, spk.keyPair.publicKey));
  const step = await kdfChainKey(p, root.chainKey);
  const keys = await messageKeys(p, step.messageKey);

  // The exchange through the public API, with scripted key generation.
  const atAlice = new SessionRecord({
    primitives: scriptedKeys(p, [inputs.aliceBaseKey, inputs.aliceRatchet1, inputs.aliceRatchet2]),
  });
  const atBob = new SessionRecord({ primitives: scriptedKeys(p, [inputs.bobRatchet1, inputs.bobRatchet2]) });
  await atAlice.initiate(alice, bundle);
  const prekeyMessage = await atAlice.encrypt(enc('hello, Bob'));
  const bobStore = store();
  expect(new TextDecoder().decode((await atBob.decrypt(bob, bobStore, prekeyMessage)).plaintext)).toBe('hello, Bob');
  const bobReply = await atBob.encrypt(enc('hello, Alice'));
  await atAlice.decrypt(alice, store(), bobReply);
  const aliceNormal = await atAlice.encrypt(enc('a normal message'));
  await atBob.decrypt(bob, bobStore, aliceNormal);

  // Sender Keys, from a record with a fixed chain (our stored layout, groups/sender-key.ts).
  const signing = new KeyPair(inputs.senderSigningKey);
  const senderRecord = new ByteWriter()
    .u8(1)
    .raw(inputs.distributionId)
    .u32(1)
    .u32(0x01020304)
    .u32(0)
    .raw(inputs.senderChainKey)
    .raw(signing.publicKey)
    .u8(1)
    .raw(signing.exportPrivateKey())
    .u32(0)
    .finish();
  const sender = SenderKeyRecord.deserialize(senderRecord, { primitives: primitivesHandle(p) });
  const distribution = sender.createDistributionMessage();
  const groupMessage = await sender.encrypt(enc('hello, group'));
  const senderStep = await kdfChainKey(p, inputs.senderChainKey);
  const senderKeys = await senderMessageKeys(p, senderStep.messageKey);
  const signed = groupMessage.subarray(0, -64);
  expect(xeddsaVerifyRaw(signing.publicKey, signed, groupMessage.subarray(-64))).toBe(true);

  return {
    pqxdhSharedSecret: toHex(pqxdh.sharedSecret),
    x3dhSharedSecret: toHex(x3dh.sharedSecret),
    rootKey: toHex(root.rootKey),
    sendingChainKey: toHex(root.chainKey),
    nextChainKey: toHex(step.chainKey),
    messageKeys: toHex(concatBytes(keys.cipherKey, keys.macKey, keys.iv)),
    prekeyMessage: toHex(prekeyMessage),
    bobReply: toHex(bobReply),
    aliceNormal: toHex(aliceNormal),
    senderKeyDistribution: toHex(distribution),
    senderMessageKeys: toHex(concatBytes(senderKeys.iv, senderKeys.cipherKey)),
    // XEdDSA signatures are randomized (§3.3 Z): everything before the signature is pinned, the signature verified.
    senderKeyMessageSigned: toHex(signed),
  };
}

describe('protocol known answers (vectors/protocol-vectors.json)', () => {
  it('every shared secret, key and wire byte equals the recorded one', async () => {
    const computed = await compute();
    if (RECORD) writeFileSync(FILE, `${JSON.stringify(computed, null, 2)}\n`);
    const recorded = JSON.parse(readFileSync(FILE, 'utf8')) as Record<string, string>;
    expect(Object.keys(computed).sort()).toEqual(Object.keys(recorded).sort());
    for (const [name, value] of Object.entries(recorded)) expect(computed[name], name).toBe(value);
  });

  it('the recorded prekey message decrypts at a fresh Bob, and one changed byte anywhere is refused', async () => {
    const recorded = JSON.parse(readFileSync(FILE, 'utf8')) as Record<string, string>;
    const bob = IdentityKeyPair.fromPrivateKey(inputs.bobIdentity);
    const kemPair = ml_kem1024.keygen(inputs.bobKemSeed);
    const store = () =>
      new InMemoryPrekeyStore()
        .addSignedPreKey(new SignedPreKey(1, new KeyPair(inputs.bobSignedPreKey), fill(64, 0), 0))
        .addOneTimePreKeys([new OneTimePreKey(10, new KeyPair(inputs.bobOneTimePreKey))])
        .addPqPreKey(new PqPreKey(100, new KemKeyPair(kemPair.publicKey, kemPair.secretKey), fill(64, 0), false));
    const message = fromHex(recorded.prekeyMessage!);
    const { plaintext } = await new SessionRecord().decrypt(bob, store(), message);
    expect(new TextDecoder().decode(plaintext)).toBe('hello, Bob');
    // The MAC covers every byte (the prekey fields too): flip one in each region.
    for (const index of [0, 1, 5, 40, 70, 75, 100, message.length - 60, message.length - 20, message.length - 1]) {
      const bad = message.slice();
      bad[index]! ^= 0x01;
      await expect(new SessionRecord().decrypt(bob, store(), bad), `byte ${index}`).rejects.toMatchObject({
        name: 'CryptoError',
      });
    }
  });
});
