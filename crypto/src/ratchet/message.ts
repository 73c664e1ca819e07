/**
 * Wire format of 1:1 session messages (ours; versioned). Everything before the
 * ciphertext is the "header" that Double Ratchet §3.4 ENCRYPT authenticates as
 * associated data, together with both identity keys (X3DH §3.3 AD).
 *
 *   u8 version (1) | u8 type (1 = normal, 2 = prekey)
 *   type 2 only: identityKey[33] | baseKey[32] | u32 signedPreKeyId | u8 flags
 *                (bit0: one-time prekey, bit1: PQ prekey) | [u32 oneTimePreKeyId]
 *                | [u32 pqPreKeyId | kemCipherText[1568]]
 *   ratchetKey[32] | u32 previousCounter | u32 counter | ciphertext||tag (≥ 16 bytes)
 */
import { ByteReader, ByteWriter } from '../codec.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { isLowOrderPoint, PUBLIC_KEY_LENGTH, SERIALIZED_PUBLIC_KEY_LENGTH } from '../keys/curve.ts';
import { KEM_CIPHERTEXT_LENGTH } from '../keys/kem.ts';
import type { CryptoLimits } from '../limits.ts';
import type { PreKeyHeader } from '../x3dh.ts';

export const SESSION_MESSAGE_VERSION = 1;
export const MessageType = { Normal: 1, PreKey: 2 } as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

const FLAG_ONE_TIME = 0x01;
const FLAG_PQ = 0x02;
const TAG_LENGTH = 16;

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
  /** The exact bytes before the ciphertext, authenticated as associated data. */
  headerBytes: Uint8Array;
  ciphertext: Uint8Array;
}

export function writePreKeyHeader(w: ByteWriter, p: PreKeyHeader): void {
  const flags = (p.oneTimePreKeyId !== undefined ? FLAG_ONE_TIME : 0) | (p.kemCipherText ? FLAG_PQ : 0);
  w.raw(p.identityKey).raw(p.baseKey).u32(p.signedPreKeyId).u8(flags);
  if (p.oneTimePreKeyId !== undefined) w.u32(p.oneTimePreKeyId);
  if (p.kemCipherText) w.u32(p.pqPreKeyId ?? 0).raw(p.kemCipherText);
}

export function readPreKeyHeader(r: ByteReader): PreKeyHeader {
  const identityKey = r.raw(SERIALIZED_PUBLIC_KEY_LENGTH);
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
  const headerBytes = bytes.subarray(0, r.offset);
  const ciphertext = r.rest();
  if (ciphertext.length < TAG_LENGTH) throw new CryptoError(CryptoErrorCode.MalformedMessage, 'ciphertext too short');
  if (ciphertext.length > limits.maxPlaintextBytes + TAG_LENGTH) {
    throw new CryptoError(CryptoErrorCode.MalformedMessage, 'ciphertext exceeds maxPlaintextBytes');
  }
  return { type, preKey, header: { ratchetKey, previousCounter, counter }, headerBytes, ciphertext };
}

/** True when `bytes` looks like an initial (prekey) message; cheap, validates nothing else. */
export function isPreKeyMessage(bytes: Uint8Array): boolean {
  return bytes.length > 2 && bytes[0] === SESSION_MESSAGE_VERSION && bytes[1] === MessageType.PreKey;
}
