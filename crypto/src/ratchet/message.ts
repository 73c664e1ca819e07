/**
 * Wire format of 1:1 session messages (ours; versioned). Version 2 carries libsignal's
 * encrypt-then-MAC construction: the body is AES-256-CBC, and the last 8 bytes are the
 * truncated HMAC-SHA-256 of sender identity ‖ receiver identity ‖ every byte before the
 * MAC (libsignal protocol.rs SignalMessage). Unlike libsignal, whose MAC covers only the
 * inner SignalMessage, ours covers the prekey fields too.
 *
 *   u8 version (2) | u8 type (1 = normal, 2 = prekey)
 *   type 2 only: identityKey[33] | baseKey[32] | u32 signedPreKeyId | u8 flags
 *                (bit0: one-time prekey, bit1: PQ prekey) | [u32 oneTimePreKeyId]
 *                | [u32 pqPreKeyId | kemCipherText[1568]]
 *   ratchetKey[32] | u32 previousCounter | u32 counter | ciphertext (n × 16 bytes, n ≥ 1) | mac[8]
 *
 * Version 1 (AES-256-GCM, key and nonce both from the message key) is refused with
 * CRYPTO_UNSUPPORTED_VERSION: see crypto/README.md "Message versions".
 */
import { ByteReader, ByteWriter } from '../codec.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { MESSAGE_MAC_LENGTH } from '../kdf.ts';
import {
  deserializePublicKey,
  isLowOrderPoint,
  PUBLIC_KEY_LENGTH,
  SERIALIZED_PUBLIC_KEY_LENGTH,
} from '../keys/curve.ts';
import { KEM_CIPHERTEXT_LENGTH } from '../keys/kem.ts';
import type { CryptoLimits } from '../limits.ts';
import type { PreKeyHeader } from '../x3dh.ts';

export const SESSION_MESSAGE_VERSION = 2;
export const MessageType = { Normal: 1, PreKey: 2 } as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

const FLAG_ONE_TIME = 0x01;
const FLAG_PQ = 0x02;
const CBC_BLOCK_LENGTH = 16;

/** Double Ratchet §3.4 HEADER(dh_pair, pn, n). */
export interface RatchetHeader {
  ratchetKey: Uint8Array;
  previousCounter: number;
  counter: number;
}

export interface ParsedSessionMessage {
  type: MessageType;
  preKey?: PreKeyHeader | undefined;
  header: RatchetHeader;
  /** Every byte before the MAC: what the MAC covers after both identity keys. */
  authenticated: Uint8Array;
  ciphertext: Uint8Array;
  mac: Uint8Array;
}

export function writePreKeyHeader(w: ByteWriter, p: PreKeyHeader): void {
  const flags = (p.oneTimePreKeyId !== undefined ? FLAG_ONE_TIME : 0) | (p.kemCipherText ? FLAG_PQ : 0);
  w.raw(p.identityKey).raw(p.baseKey).u32(p.signedPreKeyId).u8(flags);
  if (p.oneTimePreKeyId !== undefined) w.u32(p.oneTimePreKeyId);
  if (p.kemCipherText) w.u32(p.pqPreKeyId ?? 0).raw(p.kemCipherText);
}

export function readPreKeyHeader(r: ByteReader): PreKeyHeader {
  const identityKey = r.raw(SERIALIZED_PUBLIC_KEY_LENGTH);
  deserializePublicKey(identityKey); // a valid, canonical, not low-order point
  const baseKey = r.raw(PUBLIC_KEY_LENGTH);
  if (isLowOrderPoint(baseKey)) throw new CryptoError(CryptoErrorCode.LowOrderPoint, 'base key is a low-order point');
  const signedPreKeyId = r.u32();
  const flags = r.u8();
  if (flags & ~(FLAG_ONE_TIME | FLAG_PQ)) throw new CryptoError(CryptoErrorCode.MalformedMessage, 'unknown flags');
  const oneTimePreKeyId = flags & FLAG_ONE_TIME ? r.u32() : undefined;
  let pqPreKeyId: number | undefined;
  let kemCipherText: Uint8Array | undefined;
  if (flags & FLAG_PQ) {
    pqPreKeyId = r.u32();
    kemCipherText = r.raw(KEM_CIPHERTEXT_LENGTH);
  }
  return { identityKey, baseKey, signedPreKeyId, oneTimePreKeyId, pqPreKeyId, kemCipherText };
}

export function encodeHeaderBytes(header: RatchetHeader, preKey?: PreKeyHeader): Uint8Array {
  const w = new ByteWriter().u8(SESSION_MESSAGE_VERSION).u8(preKey ? MessageType.PreKey : MessageType.Normal);
  if (preKey) writePreKeyHeader(w, preKey);
  w.raw(header.ratchetKey).u32(header.previousCounter).u32(header.counter);
  return w.finish();
}

export function parseSessionMessage(bytes: Uint8Array, limits: CryptoLimits): ParsedSessionMessage {
  const r = new ByteReader(bytes, 'session message');
  const version = r.u8();
  if (version !== SESSION_MESSAGE_VERSION) {
    throw new CryptoError(CryptoErrorCode.UnsupportedVersion, `session message version ${version}`);
  }
  const type = r.u8();
  if (type !== MessageType.Normal && type !== MessageType.PreKey) {
    throw new CryptoError(CryptoErrorCode.MalformedMessage, `unknown session message type ${type}`);
  }
  const preKey = type === MessageType.PreKey ? readPreKeyHeader(r) : undefined;
  const ratchetKey = r.raw(PUBLIC_KEY_LENGTH);
  if (isLowOrderPoint(ratchetKey)) {
    throw new CryptoError(CryptoErrorCode.LowOrderPoint, 'ratchet key is a low-order point');
  }
  const previousCounter = r.u32();
  const counter = r.u32();
  const bodyLength = r.remaining - MESSAGE_MAC_LENGTH;
  if (bodyLength < CBC_BLOCK_LENGTH || bodyLength % CBC_BLOCK_LENGTH !== 0) {
    throw new CryptoError(CryptoErrorCode.MalformedMessage, 'ciphertext is not a positive number of AES blocks');
  }
  // PKCS#7 adds 1 to 16 bytes.
  if (bodyLength > limits.maxPlaintextBytes + CBC_BLOCK_LENGTH) {
    throw new CryptoError(CryptoErrorCode.MalformedMessage, 'ciphertext exceeds maxPlaintextBytes');
  }
  const ciphertext = r.raw(bodyLength);
  const authenticated = bytes.subarray(0, r.offset);
  const mac = r.raw(MESSAGE_MAC_LENGTH);
  r.end();
  return { type, preKey, header: { ratchetKey, previousCounter, counter }, authenticated, ciphertext, mac };
}

/** True when `bytes` looks like an initial (prekey) message; cheap, validates nothing else. */
export function isPreKeyMessage(bytes: Uint8Array): boolean {
  return bytes.length > 2 && bytes[0] === SESSION_MESSAGE_VERSION && bytes[1] === MessageType.PreKey;
}
