import { type FrameOf, linkRequestSignedMessage, type SignedDeviceList } from '@pulse/proto';
import type { RouterContext } from '../context.ts';
import { PulseError } from '../errors.ts';
import { retryOnConflict } from '../policy/conflicts.ts';
import { checkListUpdate, proposeDeviceId } from '../policy/devices.ts';
import type { LinkRequest } from '../ports/link-directory.ts';
import { randomHex } from '../ports/random.ts';
import type { StoredDeviceList } from '../store.ts';
import type { RequestSession } from './request.ts';

/**
 * Device requests (PROTOCOL.md "Devices", "Linking"). Each returns the answer
 * frame; the session sends it. The rules are in policy/devices.ts; each write
 * carries the list version it was checked on.
 */

/** The signed list as frames carry it (the account is the frame's). */
export function wireList(stored: StoredDeviceList): SignedDeviceList {
  return {
    version: stored.version,
    devices: stored.devices.map((d) => ({ ...d })),
    signature: stored.signature,
  };
}

/**
 * `device_list`: an account's key and signed list; for the connection's own
 * account, when each device was last seen. Another account's list is a
 * directory lookup like a bundle fetch, and counts against the same budget.
 */
export async function listDevices(
  ctx: RouterContext,
  session: RequestSession,
  frame: FrameOf<'device_list'>,
  now: number,
): Promise<FrameOf<'devices'>> {
  const own = session.device.account;
  const account = frame.account ?? own;
  if (account !== own) {
    const retryAfterMs = ctx.fetchBuckets.take(own, now);
    if (retryAfterMs > 0) {
      session.out.limitHit('prekey_fetches');
      throw new PulseError('RATE_LIMITED', 'too many directory lookups', retryAfterMs);
    }
  }
  const stored = await ctx.store.deviceList(account);
  if (stored === undefined) throw new PulseError('NOT_FOUND', `no account ${account}`);
  const answer: FrameOf<'devices'> = {
    type: 'devices',
    id: frame.id,
    account,
    accountKey: stored.accountKey,
    deviceList: wireList(stored),
  };
  if (account !== own) return answer;
  const devices = await ctx.store.listDevices(account);
  return { ...answer, lastSeen: devices.map((d) => ({ deviceId: d.deviceId, lastSeenAt: d.lastSeenAt })) };
}

/**
 * `device_list_update`: stores a new signed list (adding the device of an
 * approved link, dropping devices it no longer names), then tells the new
 * device it was approved, answers `ok`, closes removed devices' connections
 * and tells the account's other devices that the list changed.
 */
export async function updateDeviceList(
  ctx: RouterContext,
  session: RequestSession,
  frame: FrameOf<'device_list_update'>,
  now: number,
): Promise<void> {
  const { account, deviceId: sender } = session.device;
  // The link may wait on any node (cluster mode): the directory shows it, its node delivers the approval.
  const link = frame.link === undefined ? undefined : await ctx.links.get(account, frame.link.linkId, now);
  if (frame.link !== undefined && link === undefined) {
    throw new PulseError('LINK_NOT_FOUND', 'no such pending link: it expired, or the new device left');
  }
  const write = await retryOnConflict(async () => {
    const stored = await ctx.store.deviceList(account);
    if (stored === undefined) throw new PulseError('NOT_FOUND', `no device list for ${account}`);
    const devices = await ctx.store.listDevices(account);
    const decided = checkListUpdate(
      ctx.verify,
      account,
      stored,
      devices,
      frame.deviceList,
      link,
      ctx.settings.limits.maxDevices,
      now,
    );
    await ctx.store.writeDeviceList(account, decided);
    return decided;
  });
  if (link !== undefined && frame.link !== undefined && write.add !== undefined) {
    await ctx.links.approved({
      type: 'link_approved',
      linkId: link.linkId,
      account,
      deviceId: write.add.deviceId,
      provisioning: frame.link.provisioning,
    });
  }
  session.out.send({ type: 'ok', id: frame.id });
  // After the answer: a device may remove itself.
  for (const removed of write.remove) {
    ctx.hub.removed(account, removed);
  }
  const changed = ctx.codec.encode({ type: 'device_list_changed', account, version: write.list.version });
  for (const device of write.list.devices) {
    if (device.deviceId !== sender) ctx.hub.notify(account, device.deviceId, changed);
  }
  const added = write.add === undefined ? 0 : 1;
  ctx.log.info({ version: write.list.version, added, removed: write.remove.length }, 'device list updated');
}

/**
 * `link_request` (before authentication): the new device proves it holds its
 * key; the request waits, bounded, for a device of the account to approve it,
 * and is shown to the account's connected devices.
 */
export async function requestLink(
  ctx: RouterContext,
  session: RequestSession,
  frame: FrameOf<'link_request'>,
  now: number,
): Promise<FrameOf<'link_pending'>> {
  const message = linkRequestSignedMessage(session.challenge, frame.account, frame.identityKey);
  if (!ctx.verify(frame.identityKey, message, frame.signature)) {
    throw new PulseError('AUTH_FAILED', "the new device's signature does not verify");
  }
  const next = await ctx.store.nextDeviceId(frame.account);
  if (next === undefined || (await ctx.store.deviceList(frame.account)) === undefined) {
    throw new PulseError('NOT_FOUND', `no account ${frame.account}`);
  }
  const linkId = randomHex(ctx.random, 16);
  let request: LinkRequest;
  try {
    request = await ctx.links.add(
      linkId,
      {
        account: frame.account,
        make: (highestProposed) => ({
          linkId,
          deviceId: proposeDeviceId(next, highestProposed),
          deviceName: frame.deviceName,
          identityKey: frame.identityKey,
          signedPreKey: frame.signedPreKey,
          pqPreKey: frame.pqPreKey,
          mac: frame.mac,
          requestedAt: now,
          expiresAt: now + ctx.settings.limits.linkTtl,
        }),
        approve: (approved) => session.out.send(approved),
        waiting: () => session.state === 'unauthenticated',
      },
      now,
    );
  } catch (error) {
    if (error instanceof PulseError && error.code === 'RATE_LIMITED') session.out.limitHit('pending_links');
    throw error;
  }
  const announcement = ctx.codec.encode({ type: 'link_requested', ...request });
  for (const device of await ctx.store.listDevices(frame.account)) {
    ctx.hub.notify(frame.account, device.deviceId, announcement);
  }
  ctx.log.info({}, 'link requested');
  return { type: 'link_pending', id: frame.id, linkId: request.linkId, expiresAt: request.expiresAt };
}

/** `link_list`: the account's pending links. */
export async function listLinks(
  ctx: RouterContext,
  account: string,
  frame: FrameOf<'link_list'>,
  now: number,
): Promise<FrameOf<'links'>> {
  return { type: 'links', id: frame.id, requests: await ctx.links.list(account, now) };
}
