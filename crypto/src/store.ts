import { expectBytes, toHex } from './bytes.ts';
import { ByteReader, ByteWriter } from './codec.ts';
import { CryptoError, CryptoErrorCode } from './errors.ts';
import { PUBLIC_KEY_LENGTH } from './keys/curve.ts';
import type { OneTimePreKey, PqPreKey, SignedPreKey } from './keys/prekeys.ts';

type MaybePromise<T> = T | Promise<T>;

/** The prekeys an initial message used, and its base key (the initiator's ephemeral key). */
export interface PreKeyUse {
  readonly signedPreKeyId: number;
  /** The last-resort PQ prekey it used; undefined for classical X3DH. */
  readonly pqPreKeyId: number | undefined;
  /** 32 bytes. */
  readonly baseKey: Uint8Array;
}

const PRE_KEY_USE_VERSION = 1;

/** `u8 version 1 | u32 signedPreKeyId | u8 hasPq | [u32 pqPreKeyId] | baseKey[32]`: for clients that save the store. */
export function serializePreKeyUse(use: PreKeyUse): Uint8Array {
  const w = new ByteWriter().u8(PRE_KEY_USE_VERSION).u32(use.signedPreKeyId);
  if (use.pqPreKeyId === undefined) w.u8(0);
  else w.u8(1).u32(use.pqPreKeyId);
  return w.raw(use.baseKey).finish();
}

export function deserializePreKeyUse(bytes: Uint8Array): PreKeyUse {
  const r = new ByteReader(bytes, 'used prekeys');
  const version = r.u8();
  if (version !== PRE_KEY_USE_VERSION)
    throw new CryptoError(CryptoErrorCode.UnsupportedVersion, `used prekeys version ${version}`);
  const signedPreKeyId = r.u32();
  const hasPq = r.u8();
  if (hasPq > 1) throw new CryptoError(CryptoErrorCode.MalformedMessage, 'used prekeys: bad flag');
  const pqPreKeyId = hasPq === 1 ? r.u32() : undefined;
  const baseKey = r.raw(PUBLIC_KEY_LENGTH);
  r.end();
  return { signedPreKeyId, pqPreKeyId, baseKey };
}

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
   * Records that an initial message which used no one-time prekey (only the signed prekey
   * and, if any, the last-resort PQ prekey) built a session; returns false if its base key
   * already had. Replays of such a message are refused this way (PQXDH §4.2 "replay
   * attacks"; libsignal KyberPreKeyStore::mark_kyber_pre_key_used records the same triple).
   * An entry may be forgotten only once its signed prekey or PQ prekey is removed: a replay
   * then fails for want of the key.
   */
  markPreKeysUsed(use: PreKeyUse): MaybePromise<boolean>;
}

/**
 * A PrekeyStore in memory: for tests, short-lived processes, and clients that save its
 * contents themselves (each prekey's `serialize()`, and `usedPreKeys()` through
 * `serializePreKeyUse`). Used-prekey entries live exactly as long as the prekeys they name.
 */
export class InMemoryPrekeyStore implements PrekeyStore {
  readonly signedPreKeys = new Map<number, SignedPreKey>();
  readonly oneTimePreKeys = new Map<number, OneTimePreKey>();
  readonly pqPreKeys = new Map<number, PqPreKey>();
  /** Hex of each recorded base key → its entry, oldest first (a Map keeps insertion order). */
  readonly #used = new Map<string, PreKeyUse>();

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

  /** Entries saved earlier (`usedPreKeys()`), so replays stay refused after a restart. */
  addUsedPreKeys(entries: Iterable<PreKeyUse>): this {
    for (const entry of entries) this.markPreKeysUsed(entry);
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

  /**
   * After rotation, once initial messages naming the old signed prekey can no longer be in
   * flight. Forgets the used-prekey entries that name it: a replay now fails as UnknownPrekey.
   */
  removeSignedPreKey(keyId: number): void {
    this.signedPreKeys.delete(keyId);
    this.#forgetUses((use) => use.signedPreKeyId === keyId);
  }

  removeOneTimePreKey(keyId: number): void {
    this.oneTimePreKeys.delete(keyId);
  }

  /** A used one-time PQ prekey, or a rotated last-resort one (its used-prekey entries go with it). */
  removePqPreKey(keyId: number): void {
    this.pqPreKeys.delete(keyId);
    this.#forgetUses((use) => use.pqPreKeyId === keyId);
  }

  markPreKeysUsed(use: PreKeyUse): boolean {
    expectBytes(use.baseKey, PUBLIC_KEY_LENGTH, 'base key');
    const id = toHex(use.baseKey);
    if (this.#used.has(id)) return false;
    this.#used.set(id, {
      signedPreKeyId: use.signedPreKeyId,
      pqPreKeyId: use.pqPreKeyId,
      baseKey: use.baseKey.slice(),
    });
    return true;
  }

  /**
   * The recorded entries, oldest first, to save beside the prekeys. The same objects on
   * every call while remembered (so a caller may cache their encoding): do not modify them.
   */
  usedPreKeys(): readonly PreKeyUse[] {
    return [...this.#used.values()];
  }

  #forgetUses(matches: (use: PreKeyUse) => boolean): void {
    for (const [id, use] of this.#used) if (matches(use)) this.#used.delete(id);
  }
}
