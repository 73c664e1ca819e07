import type { FrameOf } from '@pulse/proto';
import { constantTimeEqual } from '../bytes.ts';
import type { RouterContext } from '../context.ts';
import { PulseError } from '../errors.ts';
import type { SealedSenderAuthority } from '../ports/sealed-sender.ts';
import type { Address } from '../store.ts';
import { sendEnvelopes } from './envelopes.ts';
import type { RequestSession } from './request.ts';

/**
 * Sealed sender (PROTOCOL.md "Sealed sender"): sender certificates for the
 * connection's own device, the account's delivery token, and sends the store
 * keeps without a sender. Signal's construction: the certificate and the
 * sender's identity travel inside the sealed payload, and the delivery token
 * (derived from the recipient's profile key, which only its contacts hold) is
 * what stops strangers from sending sealed envelopes at all.
 */

function authority(ctx: RouterContext): SealedSenderAuthority {
  if (ctx.sealedSender === undefined) throw new PulseError('UNAVAILABLE', 'this server offers no sealed sender');
  return ctx.sealedSender;
}

/**
 * The certificate each session was given, and when: asked again before half of
 * its lifetime passed, a session gets the same one. Signing is the one costly
 * step of these requests; so a device makes the server sign at most once per
 * session and half-TTL, and new sessions come only as fast as authentication
 * allows (`auth_attempts` per address). Forgotten with the session.
 */
const issued = new WeakMap<RequestSession, { readonly answer: FrameOf<'certificate'>; readonly at: number }>();

/** `sender_certificate`: the connection's own device, with the identity key the store holds for it. */
export async function issueSenderCertificate(
  ctx: RouterContext,
  session: RequestSession,
  frame: FrameOf<'sender_certificate'>,
  now: number,
): Promise<FrameOf<'certificate'>> {
  const sealed = authority(ctx);
  const held = issued.get(session);
  if (held !== undefined && now - held.at < sealed.certificateTtlMs / 2) return { ...held.answer, id: frame.id };
  const { account, deviceId } = session.device;
  const device = await ctx.store.getDevice(account, deviceId);
  // Removed meanwhile: its connection is being closed (AUTH_FAILED); it gets no certificate.
  if (device === undefined) throw new PulseError('AUTH_FAILED', 'this device is no longer part of its account');
  const expiresAt = now + sealed.certificateTtlMs;
  const certificate = sealed.issueSenderCertificate({ account, deviceId, identityKey: device.identityKey, expiresAt });
  const answer: FrameOf<'certificate'> = { type: 'certificate', id: frame.id, certificate, expiresAt };
  issued.set(session, { answer, at: now });
  return answer;
}

/** `set_delivery_token`: the store keeps the token's verifier, never the token. */
export async function setDeliveryToken(
  ctx: RouterContext,
  session: RequestSession,
  frame: FrameOf<'set_delivery_token'>,
): Promise<FrameOf<'ok'>> {
  const verifier = authority(ctx).deliveryTokenVerifier(frame.token);
  await ctx.store.setDeliveryTokenVerifier(session.device.account, verifier);
  return { type: 'ok', id: frame.id };
}

/**
 * Who an anonymous connection's envelopes come from, for addressing: nobody
 * (an account name the protocol cannot spell), so a sealed send over one must
 * address every device of its recipient, as a send from another account does.
 */
const NO_SENDER: Address = Object.freeze({ account: '', deviceId: 0 });

/**
 * `sealed_send`, on the sender's authenticated connection or on an anonymous
 * one (PROTOCOL.md "Anonymous connections"), where the server never learns the
 * sending account. An anonymous connection pays its send rates first (they cost
 * no store read); then the delivery token, before anything tells whether the
 * account exists (an unknown account, one without a token and a wrong token
 * are the same UNAUTHORIZED); then the envelopes go as a `send` does, except
 * that the store keeps no sender and the sender's byte quota does not apply.
 * Nothing here is logged: there would be an address to pair with a recipient.
 */
export async function sealedSend(
  ctx: RouterContext,
  session: RequestSession,
  frame: FrameOf<'sealed_send'>,
  now: number,
): Promise<void> {
  const sealed = authority(ctx);
  const anonymous = session.anonymous;
  const refused = anonymous?.takeSend(now);
  if (refused !== undefined) {
    session.out.limitHit(refused.limit);
    throw new PulseError('RATE_LIMITED', 'too many sealed sends from this connection or address', refused.retryAfterMs);
  }
  const stored = await ctx.store.deliveryTokenVerifier(frame.to);
  const presented = sealed.deliveryTokenVerifier(frame.deliveryToken);
  if (stored === undefined || !constantTimeEqual(presented, stored)) {
    session.out.limitHit('delivery_token');
    throw new PulseError('UNAUTHORIZED', `the delivery token is not ${frame.to}'s`);
  }
  ctx.metrics.sealedSend(session.transport, anonymous === undefined ? 'authenticated' : 'anonymous');
  const from = anonymous === undefined ? session.device : NO_SENDER;
  sendEnvelopes(ctx, from, frame, now, session.out, session.transport, { sealed: true });
}
