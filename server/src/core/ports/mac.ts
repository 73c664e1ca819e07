/**
 * A message authentication code under the server's secret key: HMAC-SHA256 in
 * production (edge/secret.ts), 32 bytes. The core signs and checks access tokens
 * with it and never holds the key itself.
 */
export type MessageAuthenticator = (message: Uint8Array) => Uint8Array;

/**
 * The token keys by id, so they can rotate (edge/secret.ts): new tokens are made
 * under `currentKeyId`; an older key still verifies the tokens made under it
 * until they expire, then the edge stops keeping it.
 */
export interface MacKeyring {
  readonly currentKeyId: number;
  /** The MAC under key `keyId`; undefined when that key is not kept. */
  macUnder(keyId: number): MessageAuthenticator | undefined;
}
