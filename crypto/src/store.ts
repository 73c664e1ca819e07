import { toHex } from './bytes.ts';
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

/** An in-memory PrekeyStore, for tests and short-lived processes. */
export class InMemoryPrekeyStore implements PrekeyStore {
  readonly signedPreKeys = new Map<number, SignedPreKey>();
  readonly oneTimePreKeys = new Map<number, OneTimePreKey>();
  readonly pqPreKeys = new Map<number, PqPreKey>();
  readonly usedBaseKeys = new Set<string>();

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

  getSignedPreKey(keyId: number): SignedPreKey | undefined {
    return this.signedPreKeys.get(keyId);
  }

  getOneTimePreKey(keyId: number): OneTimePreKey | undefined {
    return this.oneTimePreKeys.get(keyId);
  }

  getPqPreKey(keyId: number): PqPreKey | undefined {
    return this.pqPreKeys.get(keyId);
  }

  removeOneTimePreKey(keyId: number): void {
    this.oneTimePreKeys.delete(keyId);
  }

  removePqPreKey(keyId: number): void {
    this.pqPreKeys.delete(keyId);
  }

  markBaseKeyUsed(baseKey: Uint8Array): boolean {
    const id = toHex(baseKey);
    if (this.usedBaseKeys.has(id)) return false;
    this.usedBaseKeys.add(id);
    return true;
  }
}
