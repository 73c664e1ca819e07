import type { FrameOf } from '@pulse/proto';
import type { RouterContext } from './context.ts';
import { PulseError } from './errors.ts';
import type { SessionOutput } from './output.ts';
import type { Address } from './store.ts';

/**
 * `send` (PROTOCOL.md "Envelopes"): checks sizes, hands the envelopes to the
 * group commit, and answers `sent` only once they are durable; then wakes the
 * recipients' sessions to deliver them.
 */
export function sendEnvelopes(
  ctx: RouterContext,
  from: Address,
  frame: FrameOf<'send'>,
  now: number,
  out: SessionOutput,
  transport: string,
): void {
  const max = ctx.config.limits.maxMessageSize;
  for (const envelope of frame.envelopes) {
    if (envelope.payload.length > max) {
      out.limitHit('message_size');
      throw new PulseError('PAYLOAD_TOO_LARGE', `a payload of ${envelope.payload.length} bytes exceeds ${max}`);
    }
  }
  const started = process.hrtime.bigint();
  const request = {
    from,
    to: frame.to,
    envelopes: frame.envelopes,
    now,
    expiresAt: now + ctx.config.limits.envelopeTtl,
    queueCap: ctx.config.limits.queuePerDevice,
  };
  ctx.commits.submit(request, (result) => {
    // Runs after the group commit returned: only now may `sent` go out.
    if (result instanceof PulseError) {
      if (result.code === 'QUEUE_FULL') out.limitHit('queue_per_device');
      out.sendError(frame.id, result.code, result.message);
    } else {
      ctx.metrics.envelopesTotal.labels('stored').inc(result.length);
      out.send({ type: 'sent', id: frame.id, envelopeIds: result, serverTime: now });
      for (const envelope of frame.envelopes) ctx.hub.get(frame.to, envelope.deviceId)?.pump();
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    ctx.metrics.latency.labels(transport, 'send_commit').observe(seconds);
  });
}
