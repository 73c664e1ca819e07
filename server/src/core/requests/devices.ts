import { deviceLinkSignedMessage, type FrameOf } from '@pulse/proto';
import type { RouterContext } from '../context.ts';
import { PulseError } from '../errors.ts';
import { retryOnConflict } from '../policy/conflicts.ts';
import { checkLink, checkRemoval } from '../policy/devices.ts';

/**
 * Device requests of an authenticated connection (PROTOCOL.md "Devices"). Each
 * returns the answer frame; the session sends it. The rules are in
 * policy/devices.ts; each write carries the device ids they were checked on.
 */

/** `device_link`: the NEW device's signature over this connection's challenge proves it holds its key. */
export function linkDevice(
  ctx: RouterContext,
  account: string,
  challenge: Uint8Array,
  frame: FrameOf<'device_link'>,
  now: number,
): FrameOf<'device_linked'> {
  const message = deviceLinkSignedMessage(challenge, account, frame.identityKey);
  if (!ctx.verify(frame.identityKey, message, frame.signature)) {
    throw new PulseError('AUTH_FAILED', "the new device's signature does not verify");
  }
  const device = retryOnConflict(() => {
    const devices = ctx.store.listDevices(account);
    checkLink(account, devices, frame.identityKey, ctx.settings.limits.maxDevices);
    const ids = devices.map((d) => d.deviceId);
    return ctx.store.addDevice(account, { name: frame.deviceName, identityKey: frame.identityKey, now }, ids);
  });
  ctx.log.info({ account, deviceId: device.deviceId }, 'device linked');
  return { type: 'device_linked', id: frame.id, deviceId: device.deviceId };
}

export function listDevices(ctx: RouterContext, account: string, frame: FrameOf<'device_list'>): FrameOf<'devices'> {
  const devices = ctx.store.listDevices(account).map((d) => ({
    deviceId: d.deviceId,
    deviceName: d.name,
    identityKey: d.identityKey,
    createdAt: d.createdAt,
    lastSeenAt: d.lastSeenAt,
  }));
  return { type: 'devices', id: frame.id, devices };
}

/** `device_remove`: any device of the account may remove another, never the last one. */
export function removeDevice(ctx: RouterContext, account: string, frame: FrameOf<'device_remove'>): FrameOf<'ok'> {
  retryOnConflict(() => {
    const devices = ctx.store.listDevices(account);
    checkRemoval(devices, frame.deviceId);
    ctx.store.removeDevice(
      account,
      frame.deviceId,
      devices.map((d) => d.deviceId),
    );
  });
  ctx.log.info({ account, deviceId: frame.deviceId }, 'device removed');
  return { type: 'ok', id: frame.id };
}
