import { authSignedMessage, type FrameOf, registerSignedMessage } from '@pulse/proto';
import { UNKNOWN_ADDRESS } from '../connection.ts';
import type { RouterContext } from '../context.ts';
import { PulseError } from '../errors.ts';
import { type Address, StoreConflict } from '../store.ts';
import type { RequestSession } from './request.ts';

/**
 * Registration and authentication (PROTOCOL.md "Handshake and authentication").
 * Each check returns the device the connection proved to be, or throws AUTH_FAILED.
 */

/** Every register/auth/auth_token counts against the attempt budget of `key` (the peer's address). */
function takeAuthAttempt(ctx: RouterContext, key: string, now: number, onLimit: (limit: string) => void): void {
  const retryAfterMs = ctx.authBuckets.take(key, now);
  if (retryAfterMs > 0) {
    onLimit('auth_attempts');
    throw new PulseError('AUTH_RATE_LIMITED', 'too many authentication attempts', retryAfterMs);
  }
}

/** `register`: the signature over this connection's challenge proves the new account holds its key. */
export function registerAccount(
  ctx: RouterContext,
  challenge: Uint8Array,
  frame: FrameOf<'register'>,
  now: number,
  remoteAddress: string,
): Address {
  const message = registerSignedMessage(challenge, frame.account, frame.identityKey);
  if (!ctx.verify(frame.identityKey, message, frame.signature)) {
    ctx.log.info({ account: frame.account, ip: remoteAddress }, 'register refused: bad signature');
    throw new PulseError('AUTH_FAILED', 'the signature does not verify');
  }
  let device: Address;
  try {
    device = ctx.store.createAccount(frame.account, frame.deviceName, frame.identityKey, now);
  } catch (error) {
    // The account name is the store's uniqueness constraint.
    if (error instanceof StoreConflict) {
      throw new PulseError('ACCOUNT_EXISTS', `the account name ${frame.account} is taken`);
    }
    throw error;
  }
  ctx.log.info({ account: frame.account }, 'account registered');
  return { account: device.account, deviceId: device.deviceId };
}

/** `auth`: a known device signs this connection's challenge. */
export function authenticateDevice(ctx: RouterContext, challenge: Uint8Array, frame: FrameOf<'auth'>): Address {
  const device = ctx.store.getDevice(frame.account, frame.deviceId);
  const message = authSignedMessage(challenge, frame.account, frame.deviceId);
  // Unknown devices and bad signatures get the same answer: no account probing.
  if (device === undefined || !ctx.verify(device.identityKey, message, frame.signature)) {
    ctx.log.info({ account: frame.account, deviceId: frame.deviceId }, 'auth refused');
    throw new PulseError('AUTH_FAILED', 'unknown device or bad signature');
  }
  return { account: frame.account, deviceId: frame.deviceId };
}

/** `auth_token`: a token this server issued, for a device that still exists. */
export function authenticateToken(ctx: RouterContext, frame: FrameOf<'auth_token'>, now: number): Address {
  const claims = ctx.tokens.verify(frame.token, now);
  if (claims === undefined || ctx.store.getDevice(claims.account, claims.deviceId) === undefined) {
    throw new PulseError('AUTH_FAILED', 'invalid or expired token');
  }
  return { account: claims.account, deviceId: claims.deviceId };
}

/** The `auth_ok` answer: records the device as seen and issues a fresh access token. */
export function authOk(ctx: RouterContext, id: number, device: Address, now: number): FrameOf<'auth_ok'> {
  const { account, deviceId } = device;
  ctx.store.touchDevice(account, deviceId, now);
  const expiresAt = now + ctx.settings.limits.tokenTtl;
  const token = ctx.tokens.issue({ account, deviceId, expiresAt });
  return { type: 'auth_ok', id, account, deviceId, token, tokenExpiresAt: expiresAt };
}

/** Every register/auth/auth_token counts against the per-address attempt budget; none once authenticated. */
export function checkAuthAttempt(ctx: RouterContext, session: RequestSession, now: number): void {
  if (session.state === 'authenticated') throw new PulseError('FORBIDDEN', 'this connection is already authenticated');
  // Without a peer address the budget is per connection (weaker: see README "Limits").
  const key = session.remoteAddress === UNKNOWN_ADDRESS ? session.connectionKey : session.remoteAddress;
  takeAuthAttempt(ctx, key, now, (limit) => session.out.limitHit(limit));
}
