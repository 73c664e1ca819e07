import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Short-lived access tokens for reconnects: `auth_ok.token`, presented in
 * `auth_token`. Layout (all big-endian):
 *
 *   version 0x01 || deviceId (4) || expiresAt ms (8) || len(account) (1) || account || HMAC-SHA256 (32)
 *
 * The MAC key is a random server secret kept in the data directory (mode 0600);
 * nothing about issued tokens is stored. A removed device's tokens fail because
 * the device lookup after verification fails.
 */
const VERSION = 1;
const MAC_BYTES = 32;

export interface TokenClaims {
  readonly account: string;
  readonly deviceId: number;
  readonly expiresAt: number;
}

export class TokenIssuer {
  readonly #secret: Uint8Array;
  constructor(secret: Uint8Array) {
    if (secret.length < 32) throw new RangeError('the token secret is at least 32 bytes');
    this.#secret = secret;
  }

  issue(claims: TokenClaims): Uint8Array {
    const account = Buffer.from(claims.account, 'utf8');
    const body = Buffer.alloc(1 + 4 + 8 + 1 + account.length);
    body.writeUInt8(VERSION, 0);
    body.writeUInt32BE(claims.deviceId, 1);
    body.writeBigUInt64BE(BigInt(claims.expiresAt), 5);
    body.writeUInt8(account.length, 13);
    account.copy(body, 14);
    return new Uint8Array(Buffer.concat([body, this.#mac(body)]));
  }

  /** The claims of a genuine, unexpired token, else undefined. */
  verify(token: Uint8Array, now: number): TokenClaims | undefined {
    if (token.length < 14 + MAC_BYTES + 1 || token[0] !== VERSION) return undefined;
    const buf = Buffer.from(token.buffer, token.byteOffset, token.byteLength);
    const accountLength = buf.readUInt8(13);
    if (token.length !== 14 + accountLength + MAC_BYTES) return undefined;
    const body = buf.subarray(0, 14 + accountLength);
    if (!timingSafeEqual(this.#mac(body), buf.subarray(14 + accountLength))) return undefined;
    const expiresAt = Number(buf.readBigUInt64BE(5));
    if (expiresAt <= now) return undefined;
    return { deviceId: buf.readUInt32BE(1), expiresAt, account: body.subarray(14).toString('utf8') };
  }

  #mac(body: Uint8Array): Buffer {
    return createHmac('sha256', this.#secret).update(body).digest();
  }
}

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
