import { hkdf, PrivateKey, PublicKey } from '@signalapp/libsignal-client';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, toHex } from '../src/bytes.ts';
import { dh } from '../src/dh.ts';
import {
  kdfRootKey,
  kdfSharedSecret,
  MESSAGE_KEYS_INFO,
  messageKeyMaterial,
  PQXDH_INFO,
  RATCHET_INFO,
  SENDER_KEY_INFO,
  senderMessageKeyMaterial,
  X3DH_INFO,
} from '../src/kdf.ts';
import { KeyPair } from '../src/keys/curve.ts';
import { ALL_PRIMITIVES } from '../src/testing/primitives.ts';

const ab = (b: Uint8Array) => new Uint8Array(b) as Uint8Array<ArrayBuffer>;
const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });

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
            // Message keys from a chain's message-key seed (libsignal MessageKeys::derive_keys shape).
            const mk = await messageKeyMaterial(p, rk);
            expect(toHex(concatBytes(mk.key, mk.nonce))).toBe(toHex(hkdf(44, ab(rk), ab(MESSAGE_KEYS_INFO), null)));
            const sk2 = await senderMessageKeyMaterial(p, dhOut);
            expect(toHex(concatBytes(sk2.key, sk2.nonce))).toBe(toHex(hkdf(44, ab(dhOut), ab(SENDER_KEY_INFO), null)));
          },
        ),
        { numRuns: 25 },
      );
    });
  }
});
