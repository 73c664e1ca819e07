/**
 * Double Ratchet session state (Signal Double Ratchet spec §3.2) and its versioned
 * serialization. Restoring a serialized state gives a session that behaves exactly
 * like the original, skipped keys included.
 */
import { concatBytes, constantTimeEqual, fromHex, toHex } from '../bytes.ts';
import { ByteReader, ByteWriter } from '../codec.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import {
  clampPrivateKey,
  deserializePublicKey,
  isLowOrderPoint,
  PUBLIC_KEY_LENGTH,
  SERIALIZED_PUBLIC_KEY_LENGTH,
  x25519PublicKeyOf,
} from '../keys/curve.ts';
import { STORED_FORMAT_MAXIMA } from '../limits.ts';
import type { PreKeyHeader } from '../x3dh.ts';
import { readPreKeyHeader, writePreKeyHeader } from './message.ts';

export const SESSION_STATE_VERSION = 1;

export interface SessionState {
  /** Both 33-byte identity keys; AD = Encode(IK_A) || Encode(IK_B) (X3DH §3.3). */
  localIdentityKey: Uint8Array;
  remoteIdentityKey: Uint8Array;
  /** Associated data for every message: initiator's identity first. */
  associatedData: Uint8Array;
  /** Initiator's ephemeral key: identifies the session an initial message belongs to. */
  baseKey: Uint8Array;
  /** RK */
  rootKey: Uint8Array;
  /** DHs */
  sendingPrivate: Uint8Array;
  sendingPublic: Uint8Array;
  /** CKs, Ns, PN */
  sendingChainKey: Uint8Array | null;
  sendingCounter: number;
  previousSendingCounter: number;
  /** DHr, CKr, Nr */
  receivingRatchetKey: Uint8Array | null;
  receivingChainKey: Uint8Array | null;
  receivingCounter: number;
  /** MKSKIPPED, keyed `${hex(dh)}:${n}`, oldest first (Map keeps insertion order). */
  skipped: Map<string, Uint8Array>;
  /** Remote ratchet keys we already ratcheted past (hex), oldest first. */
  previousRemoteRatchetKeys: string[];
  /** Initiator only: the prekey header every message carries until a reply arrives. */
  pendingPreKey: PreKeyHeader | null;
}

export function skippedKeyId(ratchetKeyHex: string, counter: number): string {
  return `${ratchetKeyHex}:${counter}`;
}

function writeOptional(w: ByteWriter, bytes: Uint8Array | null): void {
  if (bytes) w.u8(1).raw(bytes);
  else w.u8(0);
}

export function serializeState(s: SessionState): Uint8Array {
  const w = new ByteWriter().u8(SESSION_STATE_VERSION);
  w.raw(s.localIdentityKey).raw(s.remoteIdentityKey).bytes(s.associatedData).raw(s.baseKey);
  w.raw(s.rootKey).raw(s.sendingPrivate).raw(s.sendingPublic);
  writeOptional(w, s.sendingChainKey);
  w.u32(s.sendingCounter).u32(s.previousSendingCounter);
  writeOptional(w, s.receivingRatchetKey);
  writeOptional(w, s.receivingChainKey);
  w.u32(s.receivingCounter);
  w.u32(s.skipped.size);
  for (const [id, mk] of s.skipped) {
    const [keyHex, n] = id.split(':') as [string, string];
    w.raw(fromHex(keyHex)).u32(Number(n)).raw(mk);
  }
  w.u32(s.previousRemoteRatchetKeys.length);
  for (const k of s.previousRemoteRatchetKeys) w.raw(fromHex(k));
  if (s.pendingPreKey) {
    w.u8(1);
    writePreKeyHeader(w, s.pendingPreKey);
  } else {
    w.u8(0);
  }
  return w.finish();
}

function malformed(what: string): CryptoError {
  return new CryptoError(CryptoErrorCode.MalformedMessage, `session state: ${what}`);
}

function readFlag(r: ByteReader): boolean {
  const flag = r.u8();
  if (flag > 1) throw malformed('bad flag');
  return flag === 1;
}

function readRatchetPublicKey(r: ByteReader): Uint8Array {
  const key = r.raw(PUBLIC_KEY_LENGTH);
  if (isLowOrderPoint(key)) throw malformed('a ratchet key is a low-order point');
  return key;
}

/**
 * Reads serializeState()'s bytes and checks what they mean, not only their shape: both
 * identity keys are valid points, the associated data is exactly those two keys, the
 * ratchet key pair's halves match, flags are 0 or 1, a receiving chain has its ratchet key.
 * Stored skipped keys beyond `maxSkipped` (a limit lowered since) are dropped oldest first;
 * only counts beyond STORED_FORMAT_MAXIMA are refused as corrupt.
 */
export function deserializeState(bytes: Uint8Array, maxSkipped: number): SessionState {
  const r = new ByteReader(bytes, 'session state');
  const version = r.u8();
  if (version !== SESSION_STATE_VERSION) {
    throw new CryptoError(CryptoErrorCode.UnsupportedVersion, `session state version ${version}`);
  }
  const localIdentityKey = r.raw(SERIALIZED_PUBLIC_KEY_LENGTH);
  const remoteIdentityKey = r.raw(SERIALIZED_PUBLIC_KEY_LENGTH);
  deserializePublicKey(localIdentityKey);
  deserializePublicKey(remoteIdentityKey);
  const associatedData = r.bytes(2 * SERIALIZED_PUBLIC_KEY_LENGTH);
  // X3DH §3.3 AD = Encode(IK_A) || Encode(IK_B): the initiator's key first, whichever side we are.
  if (
    !constantTimeEqual(associatedData, concatBytes(localIdentityKey, remoteIdentityKey)) &&
    !constantTimeEqual(associatedData, concatBytes(remoteIdentityKey, localIdentityKey))
  ) {
    throw malformed('associated data is not the two identity keys');
  }
  const baseKey = readRatchetPublicKey(r);
  const rootKey = r.raw(32);
  // Clamped on load (RFC 7748 §5; X25519 clamps anyway): states saved by browsers whose
  // WebCrypto handed out unclamped scalars stay readable.
  const sendingPrivate = clampPrivateKey(r.raw(32));
  const sendingPublic = r.raw(32);
  if (!constantTimeEqual(x25519PublicKeyOf(sendingPrivate), sendingPublic)) {
    throw malformed('ratchet public key does not match its private key');
  }
  const sendingChainKey = readFlag(r) ? r.raw(32) : null;
  const sendingCounter = r.u32();
  const previousSendingCounter = r.u32();
  const receivingRatchetKey = readFlag(r) ? readRatchetPublicKey(r) : null;
  const receivingChainKey = readFlag(r) ? r.raw(32) : null;
  // The initiator knows the peer's first ratchet key (the signed prekey) before any chain.
  if (receivingChainKey !== null && receivingRatchetKey === null) {
    throw malformed('a receiving chain without its ratchet key');
  }
  const receivingCounter = r.u32();
  const skippedCount = r.u32();
  if (skippedCount > STORED_FORMAT_MAXIMA.skippedKeys) throw malformed('too many skipped keys');
  const skipped = new Map<string, Uint8Array>();
  for (let i = 0; i < skippedCount; i++) {
    const key = toHex(readRatchetPublicKey(r));
    const n = r.u32();
    skipped.set(skippedKeyId(key, n), r.raw(32));
  }
  // Oldest first: keep the newest `maxSkipped`.
  for (const id of [...skipped.keys()].slice(0, Math.max(0, skipped.size - maxSkipped))) skipped.delete(id);
  const previousCount = r.u32();
  if (previousCount > STORED_FORMAT_MAXIMA.previousRatchetKeys) throw malformed('too many previous ratchet keys');
  const previousRemoteRatchetKeys: string[] = [];
  for (let i = 0; i < previousCount; i++) previousRemoteRatchetKeys.push(toHex(readRatchetPublicKey(r)));
  const pendingPreKey = readFlag(r) ? readPreKeyHeader(r) : null;
  r.end();
  if (pendingPreKey && !constantTimeEqual(pendingPreKey.identityKey, localIdentityKey)) {
    throw malformed('the pending prekey header names another identity');
  }
  return {
    localIdentityKey,
    remoteIdentityKey,
    associatedData,
    baseKey,
    rootKey,
    sendingPrivate,
    sendingPublic,
    sendingChainKey,
    sendingCounter,
    previousSendingCounter,
    receivingRatchetKey,
    receivingChainKey,
    receivingCounter,
    skipped,
    previousRemoteRatchetKeys,
    pendingPreKey,
  };
}
