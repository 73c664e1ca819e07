import { constantTimeEqual } from '../bytes.ts';
import type { MessageAuthenticator } from '../ports/mac.ts';

/**
 * Short-lived access tokens for reconnects: `auth_ok.token`, presented in
 * `auth_token`. Layout (all big-endian):
 *
 *   version 0x01 || deviceId (4) || expiresAt ms (8) || len(account) (1) || account || MAC (32)
 *
 * The MAC is HMAC-SHA256 under a random server secret that the edge keeps in the
 * data directory (edge/secret.ts); nothing about issued tokens is stored. A
 * removed device's tokens fail because the device lookup after verification fails.
 */
const VERSION = 1;
const MAC_BYTES = 32;
const HEADER_BYTES = 14;

export interface TokenClaims {
  readonly account: string;
  readonly deviceId: number;
  readonly expiresAt: number;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export class TokenIssuer {
  readonly #mac: MessageAuthenticator;

  constructor(mac: MessageAuthenticator) {
    this.#mac = mac;
  }

  issue(claims: TokenClaims): Uint8Array {
    const account = utf8.encode(claims.account);
    if (account.length > 0xff) throw new RangeError('an account name in a token is at most 255 bytes');
    const body = new Uint8Array(HEADER_BYTES + account.length);
    const view = new DataView(body.buffer);
    view.setUint8(0, VERSION);
    view.setUint32(1, claims.deviceId);
    view.setBigUint64(5, BigInt(claims.expiresAt));
    view.setUint8(13, account.length);
    body.set(account, HEADER_BYTES);
    const mac = this.#mac(body);
    const token = new Uint8Array(body.length + mac.length);
    token.set(body);
    token.set(mac, body.length);
    return token;
  }

  /** The claims of a genuine, unexpired token, else undefined. */
  verify(token: Uint8Array, now: number): TokenClaims | undefined {
    if (token.length < HEADER_BYTES + MAC_BYTES + 1 || token[0] !== VERSION) return undefined;
    const view = new DataView(token.buffer, token.byteOffset, token.byteLength);
    const accountLength = view.getUint8(13);
    if (token.length !== HEADER_BYTES + accountLength + MAC_BYTES) return undefined;
    const body = token.subarray(0, HEADER_BYTES + accountLength);
    if (!constantTimeEqual(this.#mac(body), token.subarray(HEADER_BYTES + accountLength))) return undefined;
    const expiresAt = Number(view.getBigUint64(5));
    if (expiresAt <= now) return undefined;
    return { deviceId: view.getUint32(1), expiresAt, account: fromUtf8.decode(body.subarray(HEADER_BYTES)) };
  }
}
