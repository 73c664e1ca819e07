import { authSignedMessage, type FrameOf, registerSignedMessage } from '@pulse/proto';
import { UNKNOWN_ADDRESS } from '../connection.ts';
import type { RouterContext } from '../context.ts';
import { PulseError } from '../errors.ts';
import { checkFirstList } from '../policy/devices.ts';
import { type Address, StoreConflict } from '../store.ts';
import type { RequestSession } from './request.ts';

/**
 * Registration and authentication (PROTOCOL.md "Handshake and authentication").
 * Each check returns the device the connection proved to be, or throws AUTH_FAILED.
 */

/** How a connection proved to be its device: a signature by its identity key, or a token. */
export type Credential =
  | { readonly kind: 'signature'; readonly identityKey: Uint8Array }
  | { readonly kind: 'token'; readonly token: Uint8Array; readonly expiresAt: number };

/** The device a connection proved to be, and how (`authOk` needs it; absent only for a caller's bug). */
export interface AuthenticatedDevice extends Address {
  readonly credential?: Credential;
}

const signed = (identityKey: Uint8Array): Credential => ({ kind: 'signature', identityKey });

/** Every register/auth/auth_token counts against the attempt budget of `key` (the peer's address). */
function takeAuthAttempt(ctx: RouterContext, key: string, now: number, onLimit: (limit: string) => void): void {
  const retryAfterMs = ctx.authBuckets.take(key, now);
  if (retryAfterMs > 0) {
    onLimit('auth_attempts');
    throw new PulseError('AUTH_RATE_LIMITED', 'too many authentication attempts', retryAfterMs);
  }
}

/** `register`: the signature over this connection's challenge proves the new account holds its key. */
export async function registerAccount(
  ctx: RouterContext,
  challenge: Uint8Array,
  frame: FrameOf<'register'>,
  now: number,
  _remoteAddress: string,
): Promise<AuthenticatedDevice> {
  const message = registerSignedMessage(challenge, frame.account, frame.identityKey);
  if (!ctx.verify(frame.identityKey, message, frame.signature)) {
    // No account name or address at info level: logs keep no IP↔account pairs (SECURITY.md).
    ctx.log.info({ method: 'register' }, 'authentication refused: bad signature');
    throw new PulseError('AUTH_FAILED', 'the signature does not verify');
  }
  // The account identity key signs its first device list: this device alone (PROTOCOL.md "Devices").
  const list = checkFirstList(ctx.verify, frame.account, frame, frame.accountKey, frame.deviceList);
  let device: Address;
  try {
    device = await ctx.store.createAccount(frame.account, frame.deviceName, frame.identityKey, now);
    await ctx.store.writeDeviceList(frame.account, { list, expectedVersion: undefined, remove: [] });
  } catch (error) {
    // The account name is the store's uniqueness constraint.
    if (error instanceof StoreConflict) {
      throw new PulseError('ACCOUNT_EXISTS', `the account name ${frame.account} is taken`);
    }
    throw error;
  }
  ctx.log.info({ method: 'register' }, 'account registered');
  ctx.log.debug({ account: frame.account }, 'account registered');
  return { account: device.account, deviceId: device.deviceId, credential: signed(frame.identityKey) };
}

/** `auth`: a known device signs this connection's challenge. */
export async function authenticateDevice(
  ctx: RouterContext,
  challenge: Uint8Array,
  frame: FrameOf<'auth'>,
): Promise<AuthenticatedDevice> {
  const device = await ctx.store.getDevice(frame.account, frame.deviceId);
  const message = authSignedMessage(challenge, frame.account, frame.deviceId);
  // Unknown devices and bad signatures get the same answer: no account probing.
  if (device === undefined || !ctx.verify(device.identityKey, message, frame.signature)) {
    ctx.log.info({ method: 'auth' }, 'authentication refused');
    ctx.log.debug({ account: frame.account, deviceId: frame.deviceId }, 'auth refused');
    throw new PulseError('AUTH_FAILED', 'unknown device or bad signature');
  }
  return { account: frame.account, deviceId: frame.deviceId, credential: signed(device.identityKey) };
}

/**
 * `auth_token`: a token this server issued, under a key it still keeps, for a
 * device that still exists with the identity key the token was made for.
 */
export async function authenticateToken(
  ctx: RouterContext,
  frame: FrameOf<'auth_token'>,
  now: number,
): Promise<AuthenticatedDevice> {
  const token = ctx.tokens.read(frame.token, now);
  const device = token === undefined ? undefined : await ctx.store.getDevice(token.account, token.deviceId);
  if (token === undefined || device === undefined || !ctx.tokens.verify(token, device.identityKey)) {
    ctx.log.info({ method: 'auth_token' }, 'authentication refused');
    throw new PulseError('AUTH_FAILED', 'invalid or expired token');
  }
  return {
    account: token.account,
    deviceId: token.deviceId,
    credential: { kind: 'token', token: frame.token, expiresAt: token.expiresAt },
  };
}

/**
 * The `auth_ok` answer: records the device as seen; a signature (`register`,
 * `auth`) earns a fresh token, a token earns nothing new: `auth_ok` carries the
 * same token and expiry back, so a stolen token dies at its expiry (issue 11).
 */
export async function authOk(
  ctx: RouterContext,
  id: number,
  device: AuthenticatedDevice,
  now: number,
): Promise<FrameOf<'auth_ok'>> {
  const { account, deviceId, credential } = device;
  if (credential === undefined) throw new PulseError('INTERNAL', 'authenticated without a credential');
  await ctx.store.touchDevice(account, deviceId, now);
  if (credential.kind === 'token') {
    return { type: 'auth_ok', id, account, deviceId, token: credential.token, tokenExpiresAt: credential.expiresAt };
  }
  const expiresAt = now + ctx.settings.limits.tokenTtl;
  const token = ctx.tokens.issue({ account, deviceId, expiresAt }, credential.identityKey);
  return { type: 'auth_ok', id, account, deviceId, token, tokenExpiresAt: expiresAt };
}

/** Every register/auth/auth_token counts against the per-address attempt budget; none once authenticated. */
export function checkAuthAttempt(ctx: RouterContext, session: RequestSession, now: number): void {
  if (session.state === 'authenticated') throw new PulseError('FORBIDDEN', 'this connection is already authenticated');
  // Without a peer address the budget is per connection (weaker: see README "Limits").
  const key = session.remoteAddress === UNKNOWN_ADDRESS ? session.connectionKey : session.remoteAddress;
  takeAuthAttempt(ctx, key, now, (limit) => session.out.limitHit(limit));
}
