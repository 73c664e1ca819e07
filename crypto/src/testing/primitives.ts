/**
 * Test support: every primitives implementation, so one suite runs against all of them,
 * and a counting wrapper that shows which implementation an operation really used.
 */
import {
  type CryptoPrimitives,
  loadNodePrimitives,
  noblePrimitives,
  type Primitives,
  primitivesHandle,
  webCryptoPrimitives,
} from '../primitives/index.ts';

export const ALL_PRIMITIVES: Primitives[] = [noblePrimitives, webCryptoPrimitives, loadNodePrimitives()!];

export interface CountedPrimitives {
  /** Pass as `{ primitives }`. */
  handle: CryptoPrimitives;
  /** Calls made through it so far, all operations together. */
  calls(): number;
}

/** A fresh implementation that delegates to `inner` and counts every call. */
export function counted(inner: Primitives): CountedPrimitives {
  let calls = 0;
  const count =
    <A extends unknown[], R>(op: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      calls++;
      return op(...args);
    };
  const wrapper: Primitives = {
    name: inner.name,
    generateX25519: count(() => inner.generateX25519()),
    x25519: count((own, peer) => inner.x25519(own, peer)),
    hmacSha256: count((key, data) => inner.hmacSha256(key, data)),
    hkdfSha256: count((ikm, salt, info, length) => inner.hkdfSha256(ikm, salt, info, length)),
    aesCbcEncrypt: count((key, iv, plaintext) => inner.aesCbcEncrypt(key, iv, plaintext)),
    aesCbcDecrypt: count((key, iv, ciphertext) => inner.aesCbcDecrypt(key, iv, ciphertext)),
    aesCtr: count((key, iv, data) => inner.aesCtr(key, iv, data)),
  };
  return { handle: primitivesHandle(wrapper), calls: () => calls };
}
