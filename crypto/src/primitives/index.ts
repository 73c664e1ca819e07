/**
 * Choosing the primitives a session record or sender key computes with. There is no
 * process-wide choice: each object is given `{ primitives }` when it is made (the platform's
 * best when not) and keeps it, so objects in one process may use different paths at once.
 */
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { noblePrimitives } from './noble.ts';
import { loadNodePrimitives } from './node.ts';
import type { Primitives, PrimitivesName } from './types.ts';
import { webCryptoPrimitives } from './webcrypto.ts';

export { noblePrimitives } from './noble.ts';
export { loadNodePrimitives } from './node.ts';
export type { Primitives, PrimitivesName, X25519KeyPairBytes } from './types.ts';
export { webCryptoPrimitives } from './webcrypto.ts';

/**
 * A platform path as callers hold it: its name, nothing else. The functions behind it (raw
 * X25519, AES-CBC, HMAC, HKDF) stay inside the package: no raw DH or AEAD in the public API.
 */
export interface CryptoPrimitives {
  readonly name: PrimitivesName;
}

const implementations = new WeakMap<CryptoPrimitives, Primitives>();
const handles = new WeakMap<Primitives, CryptoPrimitives>();

/** Internal (and tests): the one handle for an implementation. */
export function primitivesHandle(implementation: Primitives): CryptoPrimitives {
  let handle = handles.get(implementation);
  if (!handle) {
    handle = Object.freeze({ name: implementation.name });
    handles.set(implementation, handle);
    implementations.set(handle, implementation);
  }
  return handle;
}

function available(name: PrimitivesName): Primitives | undefined {
  if (name === 'node') return loadNodePrimitives();
  if (name === 'webcrypto') return globalThis.crypto?.subtle ? webCryptoPrimitives : undefined;
  if (name === 'noble') return noblePrimitives;
  return undefined;
}

/** node:crypto in Node (fastest there), else WebCrypto, else noble (no crypto.subtle: a page that is not a secure context). */
function platformBest(): Primitives {
  return loadNodePrimitives() ?? (globalThis.crypto?.subtle ? webCryptoPrimitives : noblePrimitives);
}

/**
 * The named platform path, to pass as `{ primitives }`. Refuses 'node' outside Node,
 * 'webcrypto' where crypto.subtle is absent, and unknown names.
 */
export function primitivesByName(name: PrimitivesName): CryptoPrimitives {
  const implementation = available(name);
  if (!implementation) {
    throw new CryptoError(CryptoErrorCode.InvalidArgument, `primitives '${String(name)}' are not available here`);
  }
  return primitivesHandle(implementation);
}

/** The path used when none is given: node:crypto in Node, WebCrypto in browsers, noble without crypto.subtle. */
export function defaultPrimitives(): CryptoPrimitives {
  return primitivesHandle(platformBest());
}

/** Internal: the implementation behind a caller's choice, or the platform's best when there is none. */
export function resolvePrimitives(choice: CryptoPrimitives | undefined): Primitives {
  if (choice === undefined) return platformBest();
  const implementation = implementations.get(choice);
  if (!implementation) {
    throw new CryptoError(
      CryptoErrorCode.InvalidArgument,
      'primitives must come from primitivesByName() or defaultPrimitives()',
    );
  }
  return implementation;
}
