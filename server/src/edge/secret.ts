import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MessageAuthenticator } from '../core/ports/mac.ts';

/**
 * The server secret: 32 random bytes in `<data dir>/server-secret` (mode 0600),
 * the key of the access tokens' MAC (core/auth/tokens.ts). Kept across
 * restarts, so tokens stay valid; replacing the file revokes every token.
 */

/** Reads the server secret from `dir/server-secret`, creating it on first start. */
export function loadOrCreateSecret(dir: string): Uint8Array {
  const path = join(dir, 'server-secret');
  if (existsSync(path)) {
    const secret = readFileSync(path);
    if (secret.length >= 32) return new Uint8Array(secret);
  }
  mkdirSync(dir, { recursive: true });
  const secret = randomBytes(32);
  writeFileSync(path, secret, { mode: 0o600 });
  chmodSync(path, 0o600);
  return new Uint8Array(secret);
}

/** HMAC-SHA256 under `secret` (at least 32 bytes). */
export function hmacSha256(secret: Uint8Array): MessageAuthenticator {
  if (secret.length < 32) throw new RangeError('the token secret is at least 32 bytes');
  const key = Uint8Array.from(secret);
  return (message) => new Uint8Array(createHmac('sha256', key).update(message).digest());
}
