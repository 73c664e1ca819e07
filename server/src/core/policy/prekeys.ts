import { PulseError } from '../errors.ts';
import type { OneTimePreKeyIds, PreKeyCounts, PreKeyUpload, TakenPreKeys } from '../store.ts';

/** Prekey directory rules (PROTOCOL.md "Prekeys"). */

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
