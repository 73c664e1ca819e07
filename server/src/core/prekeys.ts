import type { FrameOf } from '@pulse/proto';
import type { RouterContext } from './context.ts';
import { PulseError } from './errors.ts';
import type { Address, BundleRecord } from './store.ts';

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
  ctx.store.storePreKeys(self.account, self.deviceId, frame, ctx.config.limits.maxPrekeysPerDevice);
  return { type: 'ok', id: frame.id };
}

/**
 * `bundle_fetch`: rate-limited per requesting account; takes one bundle per
 * device atomically. Returns the answer and the records (to warn their owners).
 */
export function fetchBundles(
  ctx: RouterContext,
  requester: string,
  frame: FrameOf<'bundle_fetch'>,
  now: number,
  onLimit: (limit: string) => void,
): { answer: FrameOf<'bundles'>; records: BundleRecord[] } {
  const retryAfterMs = ctx.fetchBuckets.take(requester, now);
  if (retryAfterMs > 0) {
    onLimit('prekey_fetches');
    throw new PulseError('RATE_LIMITED', 'too many prekey bundle fetches', retryAfterMs);
  }
  if (ctx.store.listDevices(frame.account).length === 0) {
    throw new PulseError('NOT_FOUND', `no account ${frame.account}`);
  }
  const records = ctx.store.takeBundles(frame.account);
  if (records.length === 0) throw new PulseError('PREKEYS_EXHAUSTED', `${frame.account} has no prekeys uploaded`);
  const bundles = records.map(({ remaining: _, ...bundle }) => bundle);
  return { answer: { type: 'bundles', id: frame.id, account: frame.account, bundles }, records };
}

/** `prekeys_low` for a device below the threshold, else undefined. */
export function preKeysLow(ctx: RouterContext, account: string, deviceId: number): FrameOf<'prekeys_low'> | undefined {
  const counts = ctx.store.preKeyCounts(account, deviceId);
  const threshold = ctx.config.limits.prekeysLowThreshold;
  if (counts.oneTimePreKeys >= threshold && counts.pqOneTimePreKeys >= threshold) return undefined;
  return { type: 'prekeys_low', ...counts };
}

/** Tells the online owners of fetched bundles whose one-time prekeys ran low. */
export function warnOwners(ctx: RouterContext, account: string, records: readonly BundleRecord[]): void {
  const threshold = ctx.config.limits.prekeysLowThreshold;
  for (const { deviceId, remaining } of records) {
    if (remaining.oneTimePreKeys >= threshold && remaining.pqOneTimePreKeys >= threshold) continue;
    ctx.hub.get(account, deviceId)?.notify(ctx.codec.encode({ type: 'prekeys_low', ...remaining }));
  }
}
