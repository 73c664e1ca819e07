/**
 * A message authentication code under the server's secret key: HMAC-SHA256 in
 * production (edge/secret.ts), 32 bytes. The core signs and checks access tokens
 * with it and never holds the key itself.
 */
export type MessageAuthenticator = (message: Uint8Array) => Uint8Array;
