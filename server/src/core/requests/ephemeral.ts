import type { FrameOf } from '@pulse/proto';
import type { RouterContext } from '../context.ts';
import type { RequestSession } from './request.ts';

/**
 * `send_ephemeral` (PROTOCOL.md "Ephemeral events"): each envelope goes, as an
 * `ephemeral` frame, to the addressed device if it is connected now (to this
 * node, or in a cluster to another one), and is dropped otherwise. The store is never read or written (that is
 * the point: typing leaves no row and costs no fsync), so the envelopes are not
 * checked against the account's devices; only a connected device of `to` can
 * receive anything. Nothing is answered: what is refused is dropped and counted.
 */
export function relayEphemeral(
  ctx: RouterContext,
  session: RequestSession,
  frame: FrameOf<'send_ephemeral'>,
  now: number,
): void {
  const { out, transport } = session;
  // No account has more devices: a longer list is no typing indicator but fan-out bought cheaply.
  if (frame.envelopes.length > ctx.settings.limits.maxDevices) {
    out.limitHit('ephemeral_devices');
    return;
  }
  if (!session.ephemeral.admit(frame.envelopes.length, now)) {
    out.limitHit('ephemeral_rate');
    return;
  }
  const from = session.device;
  for (const envelope of frame.envelopes) {
    const toSelf = frame.to === from.account && envelope.deviceId === from.deviceId;
    if (toSelf) {
      ctx.metrics.ephemeral(transport, 'offline');
      continue;
    }
    const bytes = ctx.codec.encode({ type: 'ephemeral', from, serverTime: now, payload: envelope.payload });
    // Not on this node: handed to the other nodes of a cluster, if any (core/hub.ts); counted as offline here.
    const here = ctx.hub.notifyEphemeral(frame.to, envelope.deviceId, bytes);
    ctx.metrics.ephemeral(transport, here ? 'relayed' : 'offline');
  }
}
