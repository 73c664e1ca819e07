import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { noblePrimitives } from './noble.ts';
import { loadNodePrimitives } from './node.ts';
import type { Primitives } from './types.ts';
import { webCryptoPrimitives } from './webcrypto.ts';

export { noblePrimitives } from './noble.ts';
export { loadNodePrimitives } from './node.ts';
export type { Primitives, X25519KeyPairBytes } from './types.ts';
export { webCryptoPrimitives } from './webcrypto.ts';

/** The platform paths a caller may choose between (the objects themselves stay internal). */
export type PrimitivesName = 'node' | 'webcrypto' | 'noble';

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

/** Internal and tests: install a primitives implementation. */
export function setPrimitives(primitives: Primitives): void {
  current = primitives;
}

/**
 * Public: choose the platform path for all later operations. Refuses 'node' outside Node
 * and 'webcrypto' where crypto.subtle is absent.
 */
export function usePrimitives(name: PrimitivesName): void {
  const chosen =
    name === 'node'
      ? loadNodePrimitives()
      : name === 'webcrypto'
        ? globalThis.crypto?.subtle
          ? webCryptoPrimitives
          : undefined
        : name === 'noble'
          ? noblePrimitives
          : undefined;
  if (!chosen)
    throw new CryptoError(CryptoErrorCode.InvalidArgument, `primitives '${String(name)}' are not available here`);
  current = chosen;
}

/** Which platform path is in use ('node', 'webcrypto' or 'noble'). */
export function primitivesInUse(): PrimitivesName {
  return getPrimitives().name as PrimitivesName;
}
