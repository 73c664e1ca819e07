import { toHex } from './bytes.ts';
import { CryptoError, CryptoErrorCode } from './errors.ts';
import type { OneTimePreKey, PqPreKey, SignedPreKey } from './keys/prekeys.ts';

type MaybePromise<T> = T | Promise<T>;

/**
 * Where a responder's private prekeys live. Methods may be sync or async, so a
 * client can back it with IndexedDB, SQLite or memory.
 */
export interface PrekeyStore {
  getSignedPreKey(keyId: number): MaybePromise<SignedPreKey | undefined>;
  getOneTimePreKey(keyId: number): MaybePromise<OneTimePreKey | undefined>;
  getPqPreKey(keyId: number): MaybePromise<PqPreKey | undefined>;
  /** Called after a one-time prekey served a session: it must never serve another. */
  removeOneTimePreKey(keyId: number): MaybePromise<void>;
  /** Called after a one-time (not last-resort) PQ prekey served a session. */
  removePqPreKey(keyId: number): MaybePromise<void>;
  /**
   * Records that an initiator's base key built a session; returns false if it already
   * had. Replays of an initial message (possible when only last-resort keys were used)
   * are refused this way (PQXDH §4.2 "replay attacks").
   */
  markBaseKeyUsed(baseKey: Uint8Array): MaybePromise<boolean>;
}

export interface InMemoryPrekeyStoreOptions {
  /**
   * Base keys remembered to refuse replayed initial messages; past this many, the oldest
   * is forgotten first. Default: no limit.
   */
  maxUsedBaseKeys?: number | undefined;
}

/**
 * A PrekeyStore in memory: for tests, short-lived processes, and clients that save its
 * contents themselves (each prekey's `serialize()`, and `usedBaseKeys()`).
 */
export class InMemoryPrekeyStore implements PrekeyStore {
  readonly signedPreKeys = new Map<number, SignedPreKey>();
  readonly oneTimePreKeys = new Map<number, OneTimePreKey>();
  readonly pqPreKeys = new Map<number, PqPreKey>();
  /** Hex of each used base key → its bytes, oldest first (a Map keeps insertion order). */
  readonly #usedBaseKeys = new Map<string, Uint8Array>();
  readonly #maxUsedBaseKeys: number;

  constructor(options: InMemoryPrekeyStoreOptions = {}) {
    const max = options.maxUsedBaseKeys ?? Number.POSITIVE_INFINITY;
    if (!(max >= 1)) throw new CryptoError(CryptoErrorCode.InvalidArgument, 'maxUsedBaseKeys must be at least 1');
    this.#maxUsedBaseKeys = max;
  }

  addSignedPreKey(key: SignedPreKey): this {
    this.signedPreKeys.set(key.keyId, key);
    return this;
  }

  addOneTimePreKeys(keys: Iterable<OneTimePreKey>): this {
    for (const k of keys) this.oneTimePreKeys.set(k.keyId, k);
    return this;
  }

  addPqPreKey(key: PqPreKey): this {
    this.pqPreKeys.set(key.keyId, key);
    return this;
  }

  /** Base keys saved earlier (`usedBaseKeys()`), oldest first, so replays stay refused after a restart. */
  addUsedBaseKeys(baseKeys: Iterable<Uint8Array>): this {
    for (const baseKey of baseKeys) this.markBaseKeyUsed(baseKey);
    return this;
  }

  getSignedPreKey(keyId: number): SignedPreKey | undefined {
    return this.signedPreKeys.get(keyId);
  }

  getOneTimePreKey(keyId: number): OneTimePreKey | undefined {
    return this.oneTimePreKeys.get(keyId);
  }

  getPqPreKey(keyId: number): PqPreKey | undefined {
    return this.pqPreKeys.get(keyId);
  }

  /** After rotation, once initial messages naming the old signed prekey can no longer be in flight. */
  removeSignedPreKey(keyId: number): void {
    this.signedPreKeys.delete(keyId);
  }

  removeOneTimePreKey(keyId: number): void {
    this.oneTimePreKeys.delete(keyId);
  }

  removePqPreKey(keyId: number): void {
    this.pqPreKeys.delete(keyId);
  }

  markBaseKeyUsed(baseKey: Uint8Array): boolean {
    const id = toHex(baseKey);
    if (this.#usedBaseKeys.has(id)) return false;
    this.#usedBaseKeys.set(id, baseKey.slice());
    if (this.#usedBaseKeys.size > this.#maxUsedBaseKeys) {
      this.#usedBaseKeys.delete(this.#usedBaseKeys.keys().next().value as string);
    }
    return true;
  }

  /**
   * The base keys that built sessions, oldest first, to save beside the prekeys. The same
   * arrays on every call while remembered (so a caller may cache their encoding): do not modify them.
   */
  usedBaseKeys(): readonly Uint8Array[] {
    return [...this.#usedBaseKeys.values()];
  }
}
