import { type FrameOf, prekeysUploadSignedMessage } from '@pulse/proto';
import type { RouterContext } from '../context.ts';
import { PulseError } from '../errors.ts';
import { deviceKey } from '../limits/budgets.ts';
import { retryOnConflict } from '../policy/conflicts.ts';
import { bundleOf, checkPreKeyCap, checkUploadShape, isLow } from '../policy/prekeys.ts';
import type { Address, TakenPreKeys } from '../store.ts';
import { wireList } from './devices.ts';

/** Prekey directory requests (PROTOCOL.md "Prekeys"). Each returns the answer frame. */

/**
 * `prekeys_upload` (PROTOCOL.md "Prekeys"), cheapest checks first so a hostile
 * frame costs little (issue 11): the shape (exact key lengths, no list above the
 * stored cap), the cap against what is stored, then the device's signature
 * budget, charged one per signature the upload carries; only then the
 * signatures: the `proof` over this connection's challenge (a frame replayed on
 * another connection is refused) and every signed key, by the device's identity
 * key. Nothing is stored unless all of it holds.
 */
export async function uploadPreKeys(
  ctx: RouterContext,
  self: Address,
  challenge: Uint8Array,
  frame: FrameOf<'prekeys_upload'>,
  now: number,
  onLimit: (limit: string) => void,
): Promise<FrameOf<'ok'>> {
  const max = ctx.settings.limits.maxPrekeysPerDevice;
  const signatures = checkUploadShape(frame, max);
  if (frame.proof === undefined) {
    throw new PulseError('BAD_SIGNATURE', "an upload carries a proof: a signature over this connection's challenge");
  }
  checkPreKeyCap(await ctx.store.oneTimePreKeyIds(self.account, self.deviceId), frame, max);
  const retryAfterMs = ctx.budgets.prekeySignatures.take(deviceKey(self.account, self.deviceId), now, signatures + 1);
  if (retryAfterMs > 0) {
    onLimit('prekey_signatures');
    throw new PulseError('RATE_LIMITED', 'too many prekey signatures to verify for this device', retryAfterMs);
  }
  const device = await ctx.store.getDevice(self.account, self.deviceId);
  if (device === undefined) throw new PulseError('NOT_FOUND', 'this device no longer exists');
  const proof = prekeysUploadSignedMessage(challenge, self.account, self.deviceId);
  if (!ctx.verify(device.identityKey, proof, frame.proof)) {
    throw new PulseError('BAD_SIGNATURE', "the proof does not verify over this connection's challenge");
  }
  const signed = [frame.signedPreKey, frame.pqLastResortPreKey, ...(frame.pqOneTimePreKeys ?? [])].filter(
    (k) => k !== undefined,
  );
  // Signed prekeys are signed over their serialized public key, as libsignal does.
  for (const key of signed) {
    if (!ctx.verify(device.identityKey, key.publicKey, key.signature)) {
      throw new PulseError('BAD_SIGNATURE', `the signature of prekey ${key.keyId} does not verify`);
    }
  }
  await retryOnConflict(async () => {
    const stored = await ctx.store.oneTimePreKeyIds(self.account, self.deviceId);
    checkPreKeyCap(stored, frame, max);
    await ctx.store.storePreKeys(self.account, self.deviceId, frame, stored);
  });
  return { type: 'ok', id: frame.id };
}

/**
 * `bundle_fetch`: rate-limited per requesting account, per (requester, target)
 * and per target (issue 11); takes one bundle per device atomically. Returns the answer and what was taken (to warn the owners).
 */
export async function fetchBundles(
  ctx: RouterContext,
  requester: string,
  frame: FrameOf<'bundle_fetch'>,
  now: number,
  onLimit: (limit: string) => void,
): Promise<{ answer: FrameOf<'bundles'>; taken: TakenPreKeys[] }> {
  // Per requester, per (requester, target), per target: a few free accounts cannot drain one target's one-time prekeys.
  const budgets = [
    ['prekey_fetches', () => ctx.fetchBuckets.take(requester, now)],
    ['prekey_fetches_per_pair', () => ctx.budgets.fetchesPerPair.take(`${requester}\u0000${frame.account}`, now)],
    ['prekey_fetches_per_target', () => ctx.budgets.fetchesPerTarget.take(frame.account, now)],
  ] as const;
  for (const [limit, take] of budgets) {
    const retryAfterMs = take();
    if (retryAfterMs > 0) {
      onLimit(limit);
      throw new PulseError('RATE_LIMITED', `too many prekey bundle fetches (${limit})`, retryAfterMs);
    }
  }
  // The signed device list travels with the bundles: clients build sessions only with devices it names.
  const list = await ctx.store.deviceList(frame.account);
  if (list === undefined) throw new PulseError('NOT_FOUND', `no account ${frame.account}`);
  const taken = await ctx.store.takePreKeys(frame.account);
  if (taken.length === 0) throw new PulseError('PREKEYS_EXHAUSTED', `${frame.account} has no prekeys uploaded`);
  const answer: FrameOf<'bundles'> = {
    type: 'bundles',
    id: frame.id,
    account: frame.account,
    accountKey: list.accountKey,
    deviceList: wireList(list),
    bundles: taken.map(bundleOf),
  };
  return { answer, taken };
}

/** `prekeys_low` for a device below the threshold, else undefined. */
export async function preKeysLow(
  ctx: RouterContext,
  account: string,
  deviceId: number,
): Promise<FrameOf<'prekeys_low'> | undefined> {
  const counts = await ctx.store.preKeyCounts(account, deviceId);
  if (!isLow(counts, ctx.settings.limits.prekeysLowThreshold)) return undefined;
  return { type: 'prekeys_low', ...counts };
}

/** Tells the online owners of fetched bundles whose one-time prekeys ran low. */
export function warnOwners(ctx: RouterContext, account: string, taken: readonly TakenPreKeys[]): void {
  const threshold = ctx.settings.limits.prekeysLowThreshold;
  for (const { deviceId, remaining } of taken) {
    if (!isLow(remaining, threshold)) continue;
    ctx.hub.notify(account, deviceId, ctx.codec.encode({ type: 'prekeys_low', ...remaining }));
  }
}
