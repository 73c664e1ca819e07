import type { RouterContext } from './context.ts';
import { DeviceHub } from './hub.ts';

/**
 * Deletes envelopes past their TTL (never delivered) and tells their online
 * senders with one `error ENVELOPE_EXPIRED` each (no id), listing what expired:
 * best effort, an offline sender is not told later.
 */
export async function purgeExpired(ctx: RouterContext): Promise<void> {
  const expired = await ctx.store.purgeExpired(ctx.clock.now());
  if (expired.length === 0) return;
  ctx.metrics.envelopes('expired', expired.length);
  const bySender = new Map<string, { account: string; deviceId: number; lines: string[] }>();
  for (const envelope of expired) {
    // A sealed envelope has no sender on record: nobody to tell.
    if (envelope.from === undefined) continue;
    const key = DeviceHub.key(envelope.from.account, envelope.from.deviceId);
    let entry = bySender.get(key);
    if (entry === undefined) {
      entry = { ...envelope.from, lines: [] };
      bySender.set(key, entry);
    }
    entry.lines.push(`${envelope.envelopeId} (to ${envelope.to.account}/${envelope.to.deviceId})`);
  }
  for (const { account, deviceId, lines } of bySender.values()) {
    const message = `expired undelivered: ${lines.join(', ')}`.slice(0, 1000);
    ctx.hub.notify(account, deviceId, ctx.codec.encode({ type: 'error', code: 'ENVELOPE_EXPIRED', message }));
  }
}
