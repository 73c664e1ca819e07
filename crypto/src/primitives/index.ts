import { noblePrimitives } from './noble.ts';
import { loadNodePrimitives } from './node.ts';
import type { Primitives } from './types.ts';
import { webCryptoPrimitives } from './webcrypto.ts';

export { noblePrimitives } from './noble.ts';
export { loadNodePrimitives } from './node.ts';
export type { Primitives, X25519KeyPairBytes } from './types.ts';
export { webCryptoPrimitives } from './webcrypto.ts';

let current: Primitives | undefined;

/**
 * The primitives every session operation uses. Default: node:crypto when running in
 * Node (fastest there), otherwise WebCrypto (with noble for X25519 where missing), and
 * noble where crypto.subtle is absent (pages that are not a secure context).
 */
export function getPrimitives(): Primitives {
  current ??= loadNodePrimitives() ?? (globalThis.crypto?.subtle ? webCryptoPrimitives : noblePrimitives);
  return current;
}

/** Selects the primitives for all later operations (e.g. noblePrimitives in tests). */
export function usePrimitives(primitives: Primitives): void {
  current = primitives;
}
