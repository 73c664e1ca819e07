import {
  groupDecrypt,
  groupEncrypt,
  hkdf,
  type SenderKeyRecord as LibsignalSenderKeyRecord,
  PrivateKey,
  ProtocolAddress,
  PublicKey,
  SenderKeyDistributionMessage,
  SenderKeyMessage,
  SenderKeyStore,
  SignalMessage,
} from '@signalapp/libsignal-client';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, toHex } from '../src/bytes.ts';
import { dh } from '../src/dh.ts';
import { SenderKeyRecord } from '../src/groups/sender-key.ts';
import {
  kdfChainKey,
  kdfRootKey,
  kdfSharedSecret,
  MESSAGE_KEYS_INFO,
  messageKeys,
  messageMac,
  PQXDH_INFO,
  RATCHET_INFO,
  SENDER_KEY_INFO,
  senderMessageKeys,
  X3DH_INFO,
} from '../src/kdf.ts';
import { KeyPair } from '../src/keys/curve.ts';
import { noblePrimitives, primitivesHandle } from '../src/primitives/index.ts';
import { dec, enc } from '../src/testing/device.ts';
import { ALL_PRIMITIVES } from '../src/testing/primitives.ts';
import { xeddsaVerifyRaw } from '../src/xeddsa.ts';

const ab = (b: Uint8Array) => new Uint8Array(b) as Uint8Array<ArrayBuffer>;
const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const uuidOf = (id: Uint8Array) => toHex(id).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');

class SenderKeys extends SenderKeyStore {
  readonly map = new Map<string, LibsignalSenderKeyRecord>();
  async saveSenderKey(sender: ProtocolAddress, id: string, record: LibsignalSenderKeyRecord): Promise<void> {
    this.map.set(`${sender.toString()}|${id}`, record);
  }
  async getSenderKey(sender: ProtocolAddress, id: string): Promise<LibsignalSenderKeyRecord | null> {
    return this.map.get(`${sender.toString()}|${id}`) ?? null;
  }
}

/** Our distribution layout (groups/messages.ts): version | id 16 | chain id | iteration | chain key 32 | signing key 33. */
function readDistribution(d: Uint8Array) {
  const view = new DataView(d.buffer, d.byteOffset, d.byteLength);
  return {
    distributionId: d.subarray(1, 17),
    chainId: view.getUint32(17),
    iteration: view.getUint32(21),
    chainKey: d.subarray(25, 57),
    signingKey: d.subarray(57, 90),
  };
}

describe('differential with libsignal-client', () => {
  for (const p of ALL_PRIMITIVES) {
    it(`X25519 agreement equals libsignal PrivateKey.agree, both directions (${p.name} primitives)`, async () => {
      for (let i = 0; i < 10; i++) {
        const theirs = PrivateKey.generate();
        const ours = KeyPair.generate();
        const theirPublic = theirs.getPublicKey().serialize();
        const expected = theirs.agree(PublicKey.deserialize(ab(ours.serializedPublicKey())));
        expect(toHex(await dh(p, ours.exportBytes(), theirPublic.subarray(1)))).toBe(toHex(expected));
      }
    });

    it(`every shared KDF step equals libsignal's hkdf() (${p.name} primitives)`, async () => {
      await fc.assert(
        fc.asyncProperty(
          bytes(32),
          bytes(32),
          fc.uint8Array({ minLength: 96, maxLength: 160 }),
          async (rk, dhOut, km) => {
            // Double Ratchet §5.2 KDF_RK: salt = root key, IKM = DH output (libsignal RootKey::create_chain).
            const root = await kdfRootKey(p, rk, dhOut);
            const theirsRoot = hkdf(64, ab(dhOut), ab(RATCHET_INFO), ab(rk));
            expect(toHex(concatBytes(root.rootKey, root.chainKey))).toBe(toHex(theirsRoot));
            // X3DH §2.2 KDF: IKM = 0xFF×32 || KM, zero salt (libsignal ratchet::derive_keys).
            for (const info of [X3DH_INFO, PQXDH_INFO]) {
              const sk = await kdfSharedSecret(p, km, info);
              const theirsSk = hkdf(32, ab(concatBytes(new Uint8Array(32).fill(0xff), km)), ab(info), null);
              expect(toHex(sk)).toBe(toHex(theirsSk));
            }
            // Message keys: libsignal MessageKeys::derive_keys, 80 bytes of "WhisperMessageKeys", same split.
            const mk = await messageKeys(p, rk);
            const theirsMk = hkdf(80, ab(rk), ab(MESSAGE_KEYS_INFO), null);
            expect(toHex(concatBytes(mk.cipherKey, mk.macKey, mk.iv))).toBe(toHex(theirsMk));
            // Sender message keys: libsignal SenderMessageKey::new, 48 bytes of "WhisperGroup", IV first.
            const smk = await senderMessageKeys(p, dhOut);
            expect(toHex(concatBytes(smk.iv, smk.cipherKey))).toBe(
              toHex(hkdf(48, ab(dhOut), ab(SENDER_KEY_INFO), null)),
            );
          },
        ),
        { numRuns: 25 },
      );
    });

    it(`the message MAC equals the one libsignal's SignalMessage carries (${p.name} primitives)`, async () => {
      for (let i = 0; i < 5; i++) {
        const seed = globalThis.crypto.getRandomValues(new Uint8Array(32));
        const keys = await messageKeys(p, seed);
        const ciphertext = await p.aesCbcEncrypt(keys.cipherKey, keys.iv, enc(`message ${i}`));
        const sender = PrivateKey.generate().getPublicKey();
        const receiver = PrivateKey.generate().getPublicKey();
        const ratchet = PrivateKey.generate().getPublicKey();
        const theirs = SignalMessage._new(
          3,
          ab(keys.macKey),
          ratchet,
          i,
          0,
          ab(ciphertext),
          sender,
          receiver,
          ab(new Uint8Array(0)),
        ).serialize();
        // libsignal: version byte || protobuf || MAC(sender ‖ receiver ‖ everything before it)[0..8].
        const ours = await messageMac(p, keys.macKey, sender.serialize(), receiver.serialize(), theirs.subarray(0, -8));
        expect(toHex(ours)).toBe(toHex(theirs.subarray(-8)));
        // Swapping sender and receiver (the direction) changes it.
        const swapped = await messageMac(
          p,
          keys.macKey,
          receiver.serialize(),
          sender.serialize(),
          theirs.subarray(0, -8),
        );
        expect(toHex(swapped)).not.toBe(toHex(theirs.subarray(-8)));
        // The body libsignal carries is our AES-256-CBC output, and decrypts with our keys.
        const body = SignalMessage.deserialize(theirs).body();
        expect(dec(await p.aesCbcDecrypt(keys.cipherKey, keys.iv, body))).toBe(`message ${i}`);
      }
    });
  }

  it("Sender Keys: libsignal's group messages decrypt with our chain and keys, and ours with libsignal", async () => {
    const p = noblePrimitives;
    // libsignal → us: its chain, its ciphertext; our chain step, our message keys, our AES-CBC; its signature verifies with XEdDSA.
    const store = new SenderKeys();
    const alice = ProtocolAddress.new('alice', 1);
    const distributionId = '0fd5a0a6-3c1e-4f6b-9a1c-2b7e3d4c5f60';
    const skdm = await SenderKeyDistributionMessage.create(alice, distributionId, store);
    const signingKey = PublicKey.deserialize(skdm.serialize().subarray(-33)); // field 5, last in the protobuf
    let chainKey: Uint8Array = skdm.chainKey();
    for (let i = 0; i < 3; i++) {
      const theirs = (await groupEncrypt(alice, distributionId, store, ab(enc(`from libsignal ${i}`)))).serialize();
      const parsed = SenderKeyMessage.deserialize(theirs);
      expect(parsed.iteration()).toBe(i);
      const step = await kdfChainKey(p, chainKey);
      chainKey = step.chainKey;
      const keys = await senderMessageKeys(p, step.messageKey);
      expect(dec(await p.aesCbcDecrypt(keys.cipherKey, keys.iv, parsed.ciphertext()))).toBe(`from libsignal ${i}`);
      expect(xeddsaVerifyRaw(signingKey.serialize().subarray(1), theirs.subarray(0, -64), theirs.subarray(-64))).toBe(
        true,
      );
    }

    // us → libsignal: our record's ciphertext, in a libsignal message over our chain, decrypted by libsignal.
    const ours = SenderKeyRecord.createForSending(undefined, { primitives: primitivesHandle(p) });
    const d = readDistribution(ours.createDistributionMessage());
    const libsignalSigner = PrivateKey.generate();
    const bobStore = new SenderKeys();
    const bobView = SenderKeyDistributionMessage._new(
      3,
      uuidOf(d.distributionId),
      d.chainId,
      d.iteration,
      ab(d.chainKey),
      libsignalSigner.getPublicKey(),
    );
    const { processSenderKeyDistributionMessage } = await import('@signalapp/libsignal-client');
    const carol = ProtocolAddress.new('carol', 1);
    await processSenderKeyDistributionMessage(carol, bobView, bobStore);
    for (let i = 0; i < 3; i++) {
      const message = await ours.encrypt(enc(`from Pulse ${i}`));
      const ciphertext = message.subarray(1 + 16 + 4 + 4, -64);
      const wrapped = SenderKeyMessage._new(3, uuidOf(d.distributionId), d.chainId, i, ab(ciphertext), libsignalSigner);
      expect(dec(await groupDecrypt(carol, bobStore, wrapped.serialize()))).toBe(`from Pulse ${i}`);
    }
  });
});
