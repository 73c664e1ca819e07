import type { AppErrorCode, ProtoErrorCode } from '@pulse/proto';

/**
 * Codes the SDK itself raises. Server `error` frames keep the server's code
 * (PROTOCOL.md "Errors"), so a caller branches on one `code` field either way.
 */
export const CLIENT_ERROR_CODES = [
  'SERVER_UNREACHABLE', // /pulse/info could not be fetched, or no transport connected
  'BAD_SERVER_INFO', // /pulse/info answered something that is not a Pulse server description
  'TRANSPORT_UNAVAILABLE', // the requested transport is not offered here (no WebTransport in this runtime)
  'TIMEOUT', // a request or connection attempt took longer than its limit
  'CONNECTION_CLOSED', // the connection closed while a request waited for its answer
  'CLIENT_CLOSED', // the client was closed by its owner
  'TOO_MANY_REQUESTS', // more requests in flight than `maxPendingRequests`
  'NOT_REGISTERED', // the profile has no account yet
  'ALREADY_REGISTERED', // the profile already holds an account
  'UNKNOWN_CONTACT', // no such account on the server, or it has no devices
  'IDENTITY_CHANGED', // a contact's account identity key differs from the one on record: verify before trusting
  'UNTRUSTED_DEVICE', // the server lists a device the account's signed device list does not: nothing was sent
  'DEVICE_LIST_ROLLBACK', // the server gave a device list older than one already seen: refused
  'LINK_CODE_MISMATCH', // no pending link request of this account matches the code typed
  'WRONG_PASSPHRASE', // the profile could not be decrypted with the given passphrase
  'PROFILE_CORRUPT', // the profile files exist but cannot be read
  'UNKNOWN_GROUP', // no such group in this profile
  'NOT_A_MEMBER', // the group operation needs a member (or a non-member)
  'BAD_INPUT', // an argument is out of range (empty text, too long, bad name)
  'UNEXPECTED_ANSWER', // the server answered a request with a frame of the wrong type
  'NOT_SUPPORTED', // a feature this build (or the crypto library it uses) does not offer yet
] as const;

export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];
export type PulseErrorCode = ClientErrorCode | AppErrorCode | ProtoErrorCode;

export class PulseError extends Error {
  override readonly name = 'PulseError';
  readonly code: PulseErrorCode;
  /** Set for RATE_LIMITED answers: when the server accepts a retry. */
  readonly retryAfterMs: number | undefined;

  constructor(code: PulseErrorCode, message: string, options: { cause?: unknown; retryAfterMs?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryAfterMs = options.retryAfterMs;
  }

  static is(error: unknown, code?: PulseErrorCode): error is PulseError {
    return error instanceof PulseError && (code === undefined || error.code === code);
  }
}
