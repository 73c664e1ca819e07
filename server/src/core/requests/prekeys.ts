import type { FrameOf } from '@pulse/proto';
import type { RouterContext } from '../context.ts';
import { PulseError } from '../errors.ts';
import { retryOnConflict } from '../policy/conflicts.ts';
import { bundleOf, checkPreKeyCap, isLow } from '../policy/prekeys.ts';
import type { Address, TakenPreKeys } from '../store.ts';

/** Prekey directory requests (PROTOCOL.md "Prekeys"). Each returns the answer frame. */

/** `prekeys_upload`: every signed key must verify with the device's identity key, or nothing is stored. */
export function uploadPreKeys(ctx: RouterContext, self: Address, frame: FrameOf<'prekeys_upload'>): FrameOf<'ok'> {
  const device = ctx.store.getDevice(self.account, self.deviceId);
  if (device === undefined) throw new PulseError('NOT_FOUND', 'this device no longer exists');
  const signed = [frame.signedPreKey, frame.pqLastResortPreKey, ...(frame.pqOneTimePreKeys ?? [])].filter(
    (k) => k !== undefined,
  );
  // Signed prekeys are signed over their serialized public key, as libsignal does.
  for (const key of signed) {
    if (!ctx.verify(device.identityKey, key.publicKey, key.signature)) {
      throw new PulseError('BAD_SIGNATURE', `the signature of prekey ${key.keyId} does not verify`);
    }
  }
  retryOnConflict(() => {
    const stored = ctx.store.oneTimePreKeyIds(self.account, self.deviceId);
    checkPreKeyCap(stored, frame, ctx.settings.limits.maxPrekeysPerDevice);
    ctx.store.storePreKeys(self.account, self.deviceId, frame, stored);
  });
  return { type: 'ok', id: frame.id };
}

/**
 * `bundle_fetch`: rate-limited per requesting account; takes one bundle per
 * device atomically. Returns the answer and what was taken (to warn the owners).
 */
export function fetchBundles(
  ctx: RouterContext,
  requester: string,
  frame: FrameOf<'bundle_fetch'>,
  now: number,
  onLimit: (limit: string) => void,
): { answer: FrameOf<'bundles'>; taken: TakenPreKeys[] } {
  const retryAfterMs = ctx.fetchBuckets.take(requester, now);
  if (retryAfterMs > 0) {
    onLimit('prekey_fetches');
    throw new PulseError('RATE_LIMITED', 'too many prekey bundle fetches', retryAfterMs);
  }
  if (ctx.store.listDevices(frame.account).length === 0) {
    throw new PulseError('NOT_FOUND', `no account ${frame.account}`);
  }
  const taken = ctx.store.takePreKeys(frame.account);
  if (taken.length === 0) throw new PulseError('PREKEYS_EXHAUSTED', `${frame.account} has no prekeys uploaded`);
  return { answer: { type: 'bundles', id: frame.id, account: frame.account, bundles: taken.map(bundleOf) }, taken };
}

/** `prekeys_low` for a device below the threshold, else undefined. */
export function preKeysLow(ctx: RouterContext, account: string, deviceId: number): FrameOf<'prekeys_low'> | undefined {
  const counts = ctx.store.preKeyCounts(account, deviceId);
  if (!isLow(counts, ctx.settings.limits.prekeysLowThreshold)) return undefined;
  return { type: 'prekeys_low', ...counts };
}

/** Tells the online owners of fetched bundles whose one-time prekeys ran low. */
export function warnOwners(ctx: RouterContext, account: string, taken: readonly TakenPreKeys[]): void {
  const threshold = ctx.settings.limits.prekeysLowThreshold;
  for (const { deviceId, remaining } of taken) {
    if (!isLow(remaining, threshold)) continue;
    ctx.hub.get(account, deviceId)?.notify(ctx.codec.encode({ type: 'prekeys_low', ...remaining }));
  }
}
