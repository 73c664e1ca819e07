/**
 * Safety numbers: libsignal's numeric Fingerprint (rust/protocol/src/fingerprint.rs,
 * DisplayableFingerprint), version 2, 5200 iterations of SHA-512, so the 60 digits
 * shown here equal what a libsignal client shows for the same keys and identifiers.
 */
import { sha512 as nobleSha512 } from '@noble/hashes/sha2.js';
import { concatBytes, expectBytes } from './bytes.ts';
import { CryptoError, CryptoErrorCode } from './errors.ts';
import { deserializePublicKey } from './keys/curve.ts';
import { loadNodeSha512 } from './primitives/node.ts';

export const SAFETY_NUMBER_ITERATIONS = 5200;
/** Fingerprint format version libsignal hashes first (2 bytes, big-endian 0). */
const FINGERPRINT_HASH_VERSION = Uint8Array.of(0, 0);

export interface SafetyNumberParty {
  /** The stable identifier both sides agree on (libsignal: the ServiceId's bytes or an E.164 string). */
  identifier: Uint8Array;
  /** 33-byte identity key. */
  identityKey: Uint8Array;
}

/** Per-party fingerprint: SHA-512 iterated over (version || key || id || key), then (digest || key). */
function fingerprintHalf(party: SafetyNumberParty, iterations: number): Uint8Array {
  expectBytes(party.identifier, undefined, 'identifier');
  deserializePublicKey(party.identityKey);
  // OpenSSL where present (≈10× faster than noble for these 10,400 small hashes).
  const sha512 = loadNodeSha512() ?? nobleSha512;
  let digest = sha512(concatBytes(FINGERPRINT_HASH_VERSION, party.identityKey, party.identifier, party.identityKey));
  for (let i = 1; i < iterations; i++) digest = sha512(concatBytes(digest, party.identityKey));
  return digest;
}

/** Six 5-digit groups from the first 30 bytes: each 5 bytes big-endian mod 100000. */
function displayDigits(fingerprint: Uint8Array): string {
  let out = '';
  for (let i = 0; i < 30; i += 5) {
    let n = 0;
    for (let j = 0; j < 5; j++) n = n * 256 + fingerprint[i + j]!;
    out += String(n % 100000).padStart(5, '0');
  }
  return out;
}

/**
 * The 60-digit safety number for a conversation. Both parties compute the same string:
 * the two 30-digit halves are ordered by value.
 */
export function safetyNumber(
  local: SafetyNumberParty,
  remote: SafetyNumberParty,
  iterations: number = SAFETY_NUMBER_ITERATIONS,
): string {
  if (!Number.isInteger(iterations) || iterations <= 1 || iterations > 1_000_000) {
    throw new CryptoError(CryptoErrorCode.InvalidArgument, 'iterations out of range');
  }
  const ours = displayDigits(fingerprintHalf(local, iterations));
  const theirs = displayDigits(fingerprintHalf(remote, iterations));
  return ours < theirs ? ours + theirs : theirs + ours;
}
