import { PulseError } from '../errors.ts';
import type { OneTimePreKeyIds, PreKeyCounts, PreKeyUpload, TakenPreKeys } from '../store.ts';

/** Prekey directory rules (PROTOCOL.md "Prekeys"). */

/** A serialized Curve25519 public key: 0x05 || 32 bytes (libsignal's encoding, X3DH §2.5). */
export const EC_PUBLIC_KEY_BYTES = 33;
/** A serialized ML-KEM-1024 public key: a type byte || 1568 bytes (FIPS 203, @pulse/crypto keys/kem.ts). */
export const KEM_PUBLIC_KEY_BYTES = 1 + 1568;

/**
 * The shape of an upload, checked before any signature is (issue 11: a frame of
 * 1,000 keys of 1 byte each bought ~220 ms of verification): every key has the
 * exact length of its kind, and no list is longer than a device may store
 * (`maxPerDevice`). Cheap: lengths and counts only. Returns how many signatures
 * the upload carries (what it is charged).
 */
export function checkUploadShape(upload: PreKeyUpload, maxPerDevice: number): number {
  const ec = upload.oneTimePreKeys ?? [];
  const pq = upload.pqOneTimePreKeys ?? [];
  if (ec.length > maxPerDevice || pq.length > maxPerDevice) {
    throw new PulseError('FORBIDDEN', `a device stores at most ${maxPerDevice} one-time prekeys of each kind`);
  }
  const expectLength = (what: string, key: { keyId: number; publicKey: Uint8Array }, length: number) => {
    if (key.publicKey.length !== length) {
      throw new PulseError(
        'PROTO_BAD_FIELD',
        `${what} ${key.keyId}: a public key of ${key.publicKey.length} bytes, expected ${length}`,
      );
    }
  };
  if (upload.signedPreKey) expectLength('signed prekey', upload.signedPreKey, EC_PUBLIC_KEY_BYTES);
  if (upload.pqLastResortPreKey) expectLength('PQ last-resort prekey', upload.pqLastResortPreKey, KEM_PUBLIC_KEY_BYTES);
  for (const key of ec) expectLength('one-time prekey', key, EC_PUBLIC_KEY_BYTES);
  for (const key of pq) expectLength('PQ one-time prekey', key, KEM_PUBLIC_KEY_BYTES);
  return (upload.signedPreKey ? 1 : 0) + (upload.pqLastResortPreKey ? 1 : 0) + pq.length;
}

/**
 * A device stores at most `maxPerDevice` one-time prekeys of each kind, counted
 * after the upload: an uploaded id already stored replaces that key, so it does
 * not count twice. Refused uploads store nothing.
 */
export function checkPreKeyCap(existing: OneTimePreKeyIds, upload: PreKeyUpload, maxPerDevice: number): void {
  const after = (stored: readonly number[], added: readonly { keyId: number }[] | undefined) =>
    new Set([...stored, ...(added ?? []).map((key) => key.keyId)]).size;
  if (
    after(existing.ec, upload.oneTimePreKeys) > maxPerDevice ||
    after(existing.pq, upload.pqOneTimePreKeys) > maxPerDevice
  ) {
    throw new PulseError('FORBIDDEN', `a device stores at most ${maxPerDevice} one-time prekeys of each kind`);
  }
}

/** One device's bundle: the PQ prekey is a one-time one while any remain, else the last-resort one. */
export function bundleOf(taken: TakenPreKeys) {
  const { deviceId, identityKey, signedPreKey, oneTimePreKey } = taken;
  const pqPreKey = taken.pqOneTimePreKey ?? taken.pqLastResortPreKey;
  return {
    deviceId,
    identityKey,
    signedPreKey,
    pqPreKey,
    pqPreKeyIsLastResort: taken.pqOneTimePreKey === undefined,
    oneTimePreKey,
  };
}

/** True when a device holds fewer than `threshold` one-time prekeys of either kind (its owner is asked to upload). */
export function isLow(counts: PreKeyCounts, threshold: number): boolean {
  return counts.oneTimePreKeys < threshold || counts.pqOneTimePreKeys < threshold;
}
