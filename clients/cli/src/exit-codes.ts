import { PulseError, type PulseErrorCode } from '@pulse/sdk';

/**
 * Exit codes of `pulse-chat`, stable for scripts. 0 success, 1 anything
 * unexpected, 2 bad usage; the rest name what went wrong.
 */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  unreachable: 3,
  passphrase: 4,
  unknownContact: 5,
  notRegistered: 6,
  identityChanged: 7,
  refused: 8,
  timeout: 9,
  untrusted: 10,
} as const;

const BY_CODE: Partial<Record<PulseErrorCode, number>> = {
  SERVER_UNREACHABLE: EXIT.unreachable,
  BAD_SERVER_INFO: EXIT.unreachable,
  TRANSPORT_UNAVAILABLE: EXIT.unreachable,
  WRONG_PASSPHRASE: EXIT.passphrase,
  PROFILE_CORRUPT: EXIT.passphrase,
  UNKNOWN_CONTACT: EXIT.unknownContact,
  NOT_FOUND: EXIT.unknownContact,
  UNKNOWN_GROUP: EXIT.unknownContact,
  NOT_REGISTERED: EXIT.notRegistered,
  ALREADY_REGISTERED: EXIT.usage,
  BAD_INPUT: EXIT.usage,
  IDENTITY_CHANGED: EXIT.identityChanged,
  ACCOUNT_EXISTS: EXIT.refused,
  AUTH_FAILED: EXIT.refused,
  FORBIDDEN: EXIT.refused,
  NOT_A_MEMBER: EXIT.refused,
  TIMEOUT: EXIT.timeout,
  UNTRUSTED_DEVICE: EXIT.untrusted,
  DEVICE_LIST_ROLLBACK: EXIT.untrusted,
  DEVICE_LIST_INVALID: EXIT.untrusted,
  DEVICE_LIST_STALE: EXIT.refused,
  LINK_CODE_MISMATCH: EXIT.refused,
  LINK_NOT_FOUND: EXIT.refused,
};

export function exitCodeOf(error: unknown): number {
  return PulseError.is(error) ? (BY_CODE[error.code] ?? EXIT.failure) : EXIT.failure;
}

/** One line a person can act on. */
export function describeError(error: unknown): string {
  if (!PulseError.is(error)) return error instanceof Error ? error.message : String(error);
  switch (error.code) {
    case 'SERVER_UNREACHABLE':
      return `${error.message}. Is the server running (npm start)? Use --server URL to pick another.`;
    case 'WRONG_PASSPHRASE':
      return `${error.message}. Set PULSE_PASSPHRASE to the passphrase this profile was created with.`;
    case 'NOT_REGISTERED':
      return 'this profile has no account yet: run `pulse-chat register NAME` (or `link NAME`) first';
    case 'ACCOUNT_EXISTS':
      return `${error.message}: pick another name`;
    case 'UNKNOWN_CONTACT':
      return error.message;
    default:
      return `${error.message} (${error.code})`;
  }
}
