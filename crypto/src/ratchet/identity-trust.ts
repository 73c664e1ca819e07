/**
 * The caller's say in whose identity a session may be built with, as libsignal's
 * IdentityKeyStore::is_trusted_identity (rust/protocol/src/storage/traits.rs) gives it.
 * SessionRecord asks before it builds a session (initiate: Sending) and before a session
 * other than the current one takes over (an initial message, or a message of an archived
 * session: Receiving). It asks only about identity keys the peer has proved it holds (the
 * bundle's signatures verified, or the message's MAC verified), and a refusal leaves the
 * record exactly as it was, so the same message can be decrypted once the user accepts.
 */
import { toHex } from '../bytes.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';

export const Direction = { Sending: 'sending', Receiving: 'receiving' } as const;
export type Direction = (typeof Direction)[keyof typeof Direction];

/**
 * True when `identityKey` (33 bytes, 0x05-prefixed) may be used with this peer in
 * `direction`. Should not record anything: SessionRecord may ask about a key it then
 * does not use (libsignal's contract too); record the key after a successful decrypt.
 */
export type IsTrustedIdentity = (identityKey: Uint8Array, direction: Direction) => boolean | Promise<boolean>;

export interface IdentityTrustOptions {
  /** Consulted before a session is built or promoted; absent: every identity is accepted. */
  isTrustedIdentity?: IsTrustedIdentity | undefined;
}

/** Throws CryptoError(UntrustedIdentity) unless the check accepts the key. */
export async function requireTrustedIdentity(
  check: IsTrustedIdentity | undefined,
  identityKey: Uint8Array,
  direction: Direction,
): Promise<void> {
  if (check === undefined) return;
  // The check gets a copy: whatever it does with the array cannot change the session.
  if ((await check(identityKey.slice(), direction)) !== true) {
    throw new CryptoError(
      CryptoErrorCode.UntrustedIdentity,
      `identity ${toHex(identityKey)} is not trusted for ${direction}`,
    );
  }
}
