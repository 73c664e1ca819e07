/**
 * Wire formats of Sender Keys (ours; versioned; libsignal's SenderKeyMessage and
 * SenderKeyDistributionMessage carry the same fields in protobuf):
 *
 *   distribution: u8 version | distributionId[16] | u32 chainId | u32 iteration
 *                 | chainKey[32] | signingKey[33]
 *   message:      u8 version | distributionId[16] | u32 chainId | u32 iteration
 *                 | ciphertext||tag | signature[64]   (XEdDSA over everything before it)
 */
import { ByteReader, ByteWriter } from '../codec.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { deserializePublicKey, SERIALIZED_PUBLIC_KEY_LENGTH, serializePublicKey } from '../keys/curve.ts';
import type { CryptoLimits } from '../limits.ts';
import { SIGNATURE_LENGTH } from '../xeddsa.ts';

export const SENDER_KEY_VERSION = 1;
export const DISTRIBUTION_ID_LENGTH = 16;
const TAG_LENGTH = 16;

export interface SenderKeyDistribution {
  distributionId: Uint8Array;
  chainId: number;
  iteration: number;
  chainKey: Uint8Array;
  /** 32-byte u-coordinate of the sender's signing key. */
  signingKey: Uint8Array;
}

export function encodeDistribution(d: SenderKeyDistribution): Uint8Array {
  return new ByteWriter()
    .u8(SENDER_KEY_VERSION)
    .raw(d.distributionId)
    .u32(d.chainId)
    .u32(d.iteration)
    .raw(d.chainKey)
    .raw(serializePublicKey(d.signingKey))
    .finish();
}

function readVersion(r: ByteReader, what: string): void {
  const version = r.u8();
  if (version !== SENDER_KEY_VERSION)
    throw new CryptoError(CryptoErrorCode.UnsupportedVersion, `${what} version ${version}`);
}

export function decodeDistribution(bytes: Uint8Array): SenderKeyDistribution {
  const r = new ByteReader(bytes, 'sender key distribution');
  readVersion(r, 'sender key distribution');
  const distributionId = r.raw(DISTRIBUTION_ID_LENGTH);
  const chainId = r.u32();
  const iteration = r.u32();
  const chainKey = r.raw(32);
  const signingKey = deserializePublicKey(r.raw(SERIALIZED_PUBLIC_KEY_LENGTH));
  r.end();
  return { distributionId, chainId, iteration, chainKey, signingKey };
}

export interface ParsedSenderKeyMessage {
  distributionId: Uint8Array;
  chainId: number;
  iteration: number;
  /** Bytes before the ciphertext: AEAD associated data. */
  header: Uint8Array;
  ciphertext: Uint8Array;
  /** Bytes the signature covers (everything before it). */
  signed: Uint8Array;
  signature: Uint8Array;
}

export function encodeMessageHeader(distributionId: Uint8Array, chainId: number, iteration: number): Uint8Array {
  return new ByteWriter().u8(SENDER_KEY_VERSION).raw(distributionId).u32(chainId).u32(iteration).finish();
}

export function parseSenderKeyMessage(bytes: Uint8Array, limits: CryptoLimits): ParsedSenderKeyMessage {
  const r = new ByteReader(bytes, 'sender key message');
  readVersion(r, 'sender key message');
  const distributionId = r.raw(DISTRIBUTION_ID_LENGTH);
  const chainId = r.u32();
  const iteration = r.u32();
  const headerLength = r.offset;
  const bodyLength = r.remaining - SIGNATURE_LENGTH;
  if (bodyLength < TAG_LENGTH) throw new CryptoError(CryptoErrorCode.MalformedMessage, 'sender key message too short');
  if (bodyLength > limits.maxPlaintextBytes + TAG_LENGTH) {
    throw new CryptoError(CryptoErrorCode.MalformedMessage, 'sender key message exceeds maxPlaintextBytes');
  }
  const ciphertext = r.raw(bodyLength);
  const signature = r.raw(SIGNATURE_LENGTH);
  return {
    distributionId,
    chainId,
    iteration,
    header: bytes.subarray(0, headerLength),
    ciphertext,
    signed: bytes.subarray(0, bytes.length - SIGNATURE_LENGTH),
    signature,
  };
}
