import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { MacKeyring, MessageAuthenticator } from '../core/ports/mac.ts';

/**
 * The token keys: the HMAC-SHA256 keys of the access tokens (core/auth/tokens.ts),
 * each with an id, in a file of their own (`[auth] token_keys`, mode 0600). They
 * are not in the database, so a copy of the database does not carry them; and
 * they need no backup at all: without them every device signs in again with its
 * identity key (`auth`), nothing is lost.
 *
 * Rotation (`npm start -- --rotate-token-key`, then restart): a new key is added
 * and signs every new token; the older ones still verify the tokens made under
 * them until those expire (`limits.token_ttl` after the next key was made), and
 * are dropped from the file after that. A file that cannot be read as token
 * keys stops the start: it is never silently replaced (that would sign every
 * device out, and hide whatever damaged it).
 */

const FORMAT = 'pulse-token-keys/1';
const KEY_BYTES = 32;

export interface TokenKey {
  readonly id: number;
  /** When the key was made (ms): its predecessor's tokens expire at most `token_ttl` after it. */
  readonly createdAt: number;
  readonly secret: Uint8Array;
}

/** Why the token key file was refused; `code` is stable. */
export class TokenKeysError extends Error {
  override readonly name = 'TokenKeysError';
  readonly code: 'TOKEN_KEYS_CORRUPT' | 'TOKEN_KEYS_UNPROTECTED' | 'TOKEN_KEYS_UNREADABLE';
  constructor(code: TokenKeysError['code'], path: string, detail: string) {
    super(`token keys ${path}: ${detail}`);
    this.code = code;
  }
}

/** Where the token keys live: `[auth] token_keys`, or `token-keys` in the data directory when empty. */
export function tokenKeysPath(config: { auth: { tokenKeys: string }; storage: { path: string } }): string {
  return config.auth.tokenKeys === '' ? join(config.storage.path, 'token-keys') : config.auth.tokenKeys;
}

function parseKeys(path: string, text: string): TokenKey[] {
  const corrupt = (detail: string) => new TokenKeysError('TOKEN_KEYS_CORRUPT', path, detail);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw corrupt('not JSON');
  }
  const file = parsed as { format?: unknown; keys?: unknown };
  if (typeof file !== 'object' || file === null || file.format !== FORMAT || !Array.isArray(file.keys)) {
    throw corrupt(`not a ${FORMAT} file`);
  }
  if (file.keys.length === 0) throw corrupt('holds no key');
  const keys = file.keys.map((entry: unknown, index): TokenKey => {
    const key = entry as { id?: unknown; createdAt?: unknown; secret?: unknown };
    const { id, createdAt, secret } = key ?? {};
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 0xffff_ffff) {
      throw corrupt(`key ${index}: id is not a 32-bit unsigned integer`);
    }
    if (typeof createdAt !== 'number' || !Number.isSafeInteger(createdAt) || createdAt < 0) {
      throw corrupt(`key ${id}: createdAt is not a time`);
    }
    if (typeof secret !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(secret)) {
      throw corrupt(`key ${id}: secret is not base64`);
    }
    const bytes = new Uint8Array(Buffer.from(secret, 'base64'));
    if (bytes.length < KEY_BYTES) throw corrupt(`key ${id}: secret is shorter than ${KEY_BYTES} bytes`);
    return { id, createdAt, secret: bytes };
  });
  for (let i = 1; i < keys.length; i++) {
    if ((keys[i] as TokenKey).id <= (keys[i - 1] as TokenKey).id) throw corrupt('key ids are not increasing');
  }
  return keys;
}

function writeKeys(path: string, keys: readonly TokenKey[]): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const text = JSON.stringify({
    format: FORMAT,
    keys: keys.map((key) => ({
      id: key.id,
      createdAt: key.createdAt,
      secret: Buffer.from(key.secret).toString('base64'),
    })),
  });
  // Written beside the file and renamed over it: a crash leaves the old file or the new one, never half of one.
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${text}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

function newKey(id: number, now: number): TokenKey {
  return { id, createdAt: now, secret: new Uint8Array(randomBytes(KEY_BYTES)) };
}

/** The keys still needed at `now`: the newest, and each older one whose tokens may not all have expired. */
function keysInUse(keys: readonly TokenKey[], now: number, tokenTtlMs: number): TokenKey[] {
  return keys.filter((_key, index) => {
    const successor = keys[index + 1];
    return successor === undefined || now < successor.createdAt + tokenTtlMs;
  });
}

function readKeys(path: string): TokenKey[] | undefined {
  let text: string;
  try {
    const mode = statSync(path).mode;
    // Like ssh with its private keys: a key others may read or replace is not a secret.
    if ((mode & 0o077) !== 0) {
      throw new TokenKeysError('TOKEN_KEYS_UNPROTECTED', path, `mode ${(mode & 0o777).toString(8)}, expected 600`);
    }
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof TokenKeysError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TokenKeysError('TOKEN_KEYS_UNREADABLE', path, (error as Error).message);
  }
  return parseKeys(path, text);
}

/**
 * The token keys at `path`, created with one fresh key on first start. Keys no
 * token can need any more are dropped from the file. Throws TokenKeysError for
 * a file that is damaged or readable by others.
 */
export function loadTokenKeys(path: string, now: number, tokenTtlMs: number): TokenKey[] {
  const keys = readKeys(path);
  if (keys === undefined) {
    const created = [newKey(1, now)];
    writeKeys(path, created);
    return created;
  }
  const kept = keysInUse(keys, now, tokenTtlMs);
  if (kept.length !== keys.length) writeKeys(path, kept);
  return kept;
}

/** Adds a new key that signs every token from the next start on; returns it. */
export function rotateTokenKeys(path: string, now: number, tokenTtlMs: number): TokenKey {
  const keys = keysInUse(readKeys(path) ?? [], now, tokenTtlMs);
  const last = keys.at(-1);
  if (last !== undefined && last.id === 0xffff_ffff) {
    throw new TokenKeysError('TOKEN_KEYS_CORRUPT', path, 'no key id left');
  }
  const key = newKey(last === undefined ? 1 : last.id + 1, now);
  writeKeys(path, [...keys, key]);
  return key;
}

/** HMAC-SHA256 under `secret` (at least 32 bytes). */
export function hmacSha256(secret: Uint8Array): MessageAuthenticator {
  if (secret.length < KEY_BYTES) throw new RangeError('the token secret is at least 32 bytes');
  const key = Uint8Array.from(secret);
  return (message) => new Uint8Array(createHmac('sha256', key).update(message).digest());
}

/** The keyring the core signs tokens with: the newest key signs, every key kept verifies. */
export function hmacKeyring(keys: readonly TokenKey[]): MacKeyring {
  const current = keys.at(-1);
  if (current === undefined) throw new RangeError('no token key');
  const macs = new Map(keys.map((key) => [key.id, hmacSha256(key.secret)]));
  return { currentKeyId: current.id, macUnder: (keyId) => macs.get(keyId) };
}
