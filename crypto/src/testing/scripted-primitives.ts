/**
 * Test support: primitives whose X25519 key generation returns keys given in advance, so a
 * whole exchange (and its wire bytes) is reproducible for known-answer vectors.
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { clampPrivateKey } from '../keys/curve.ts';
import { type CryptoPrimitives, type Primitives, primitivesHandle } from '../primitives/index.ts';

/** A handle computing with `inner`, whose generateX25519 hands out `privateKeys` in order, then refuses. */
export function scriptedKeys(inner: Primitives, privateKeys: Uint8Array[]): CryptoPrimitives {
  const queue = [...privateKeys];
  const scripted: Primitives = {
    ...inner,
    async generateX25519() {
      const next = queue.shift();
      if (!next) throw new CryptoError(CryptoErrorCode.InvalidState, 'scripted primitives: no key left');
      const privateKey = clampPrivateKey(next);
      return { privateKey, publicKey: x25519.getPublicKey(privateKey) };
    },
  };
  return primitivesHandle(scripted);
}
