/**
 * Wire formats of Sender Keys (ours; versioned; libsignal's SenderKeyMessage and
 * SenderKeyDistributionMessage carry the same fields in protobuf):
 *
 *   distribution: u8 version (1) | distributionId[16] | u32 chainId | u32 iteration
 *                 | chainKey[32] | signingKey[33]
 *   message:      u8 version (2) | distributionId[16] | u32 chainId | u32 iteration
 *                 | ciphertext (AES-256-CBC, n × 16 bytes, n ≥ 1) | signature[64]
 *                 (XEdDSA over everything before it, as libsignal's SenderKeyMessage)
 *
 * Message version 1 (AES-256-GCM) is refused with CRYPTO_UNSUPPORTED_VERSION; the
 * distribution message did not change (the chain is the same), so it stays version 1.
 */
import { ByteReader, ByteWriter } from '../codec.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { deserializePublicKey, SERIALIZED_PUBLIC_KEY_LENGTH, serializePublicKey } from '../keys/curve.ts';
import type { CryptoLimits } from '../limits.ts';
import { SIGNATURE_LENGTH } from '../xeddsa.ts';

export const SENDER_KEY_DISTRIBUTION_VERSION = 1;
export const SENDER_KEY_MESSAGE_VERSION = 2;
export const DISTRIBUTION_ID_LENGTH = 16;
const CBC_BLOCK_LENGTH = 16;

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
    .u8(SENDER_KEY_DISTRIBUTION_VERSION)
    .raw(d.distributionId)
    .u32(d.chainId)
    .u32(d.iteration)
    .raw(d.chainKey)
    .raw(serializePublicKey(d.signingKey))
    .finish();
}

function readVersion(r: ByteReader, what: string, expected: number): void {
  const version = r.u8();
  if (version !== expected) throw new CryptoError(CryptoErrorCode.UnsupportedVersion, `${what} version ${version}`);
}

export function decodeDistribution(bytes: Uint8Array): SenderKeyDistribution {
  const r = new ByteReader(bytes, 'sender key distribution');
  readVersion(r, 'sender key distribution', SENDER_KEY_DISTRIBUTION_VERSION);
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
  ciphertext: Uint8Array;
  /** Bytes the signature covers (everything before it). */
  signed: Uint8Array;
  signature: Uint8Array;
}

export function encodeMessageHeader(distributionId: Uint8Array, chainId: number, iteration: number): Uint8Array {
  return new ByteWriter().u8(SENDER_KEY_MESSAGE_VERSION).raw(distributionId).u32(chainId).u32(iteration).finish();
}

export function parseSenderKeyMessage(bytes: Uint8Array, limits: CryptoLimits): ParsedSenderKeyMessage {
  const r = new ByteReader(bytes, 'sender key message');
  readVersion(r, 'sender key message', SENDER_KEY_MESSAGE_VERSION);
  const distributionId = r.raw(DISTRIBUTION_ID_LENGTH);
  const chainId = r.u32();
  const iteration = r.u32();
  const bodyLength = r.remaining - SIGNATURE_LENGTH;
  if (bodyLength < CBC_BLOCK_LENGTH || bodyLength % CBC_BLOCK_LENGTH !== 0) {
    throw new CryptoError(
      CryptoErrorCode.MalformedMessage,
      'sender key ciphertext is not a positive number of AES blocks',
    );
  }
  if (bodyLength > limits.maxPlaintextBytes + CBC_BLOCK_LENGTH) {
    throw new CryptoError(CryptoErrorCode.MalformedMessage, 'sender key message exceeds maxPlaintextBytes');
  }
  const ciphertext = r.raw(bodyLength);
  const signature = r.raw(SIGNATURE_LENGTH);
  return {
    distributionId,
    chainId,
    iteration,
    ciphertext,
    signed: bytes.subarray(0, bytes.length - SIGNATURE_LENGTH),
    signature,
  };
}
