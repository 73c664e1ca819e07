import type { FrameOf } from '@pulse/proto';
import type { TransportKind } from '../connection.ts';
import type { RouterContext } from '../context.ts';
import { PulseError } from '../errors.ts';
import { AdmissionRefusal } from '../policy/queue.ts';
import type { SessionOutput } from '../session/output.ts';
import type { Address } from '../store.ts';

/**
 * `send` (PROTOCOL.md "Envelopes"), and `sealed_send` once its delivery token
 * is checked (sealed.ts): checks sizes, hands the envelopes to the group commit
 * (which decides addressing and the queue cap), and answers `sent` only once
 * they are durable; then hands them to the recipients' sessions, which deliver
 * them from memory (core/hub.ts, delivery.ts). A sealed send is stored and
 * delivered without a sender.
 */
export function sendEnvelopes(
  ctx: RouterContext,
  from: Address,
  frame: FrameOf<'send'> | FrameOf<'sealed_send'>,
  now: number,
  out: SessionOutput,
  transport: TransportKind,
  options: { readonly sealed: boolean } = { sealed: false },
): void {
  const max = ctx.settings.limits.maxMessageSize;
  for (const envelope of frame.envelopes) {
    if (envelope.payload.length > max) {
      out.limitHit('message_size');
      throw new PulseError('PAYLOAD_TOO_LARGE', `a payload of ${envelope.payload.length} bytes exceeds ${max}`);
    }
  }
  const started = ctx.clock.monotonic();
  const request = {
    from,
    to: frame.to,
    envelopes: frame.envelopes,
    now,
    expiresAt: now + ctx.settings.limits.envelopeTtl,
    sealed: options.sealed,
  };
  // What the recipient is handed: a sealed envelope names no sender (PROTOCOL.md "Sealed sender").
  const sender = options.sealed ? { sealed: true as const } : { from };
  ctx.commits.submit(request, (result) => {
    // Runs after the group commit returned: only now may `sent` go out.
    if (result instanceof PulseError) {
      if (result instanceof AdmissionRefusal) out.limitHit(result.limit);
      out.sendError(frame.id, result.code, result.message);
    } else {
      ctx.metrics.envelopes('stored', result.length);
      out.send({ type: 'sent', id: frame.id, envelopeIds: result, serverTime: now });
      // Here from memory, or on another node of the cluster from the store (core/hub.ts).
      frame.envelopes.forEach((envelope, i) => {
        ctx.hub.committed(frame.to, envelope.deviceId, [
          { envelopeId: result[i]!, ...sender, serverTime: now, payload: envelope.payload },
        ]);
      });
    }
    ctx.metrics.latency(transport, 'send_commit', (ctx.clock.monotonic() - started) / 1000);
  });
}
