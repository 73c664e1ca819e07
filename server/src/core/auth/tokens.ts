import { constantTimeEqual } from '../bytes.ts';
import type { MacKeyring, MessageAuthenticator } from '../ports/mac.ts';

/**
 * Short-lived access tokens for reconnects: `auth_ok.token`, presented in
 * `auth_token`. Layout (all big-endian):
 *
 *   version 0x02 || keyId (4) || deviceId (4) || expiresAt ms (8) || len(account) (1) || account || MAC (32)
 *
 * MAC = HMAC-SHA256 under key `keyId` of the server's token keys (edge/secret.ts)
 * over the token's body followed by the device's identity public key. The key is
 * not in the token, so a token is bound to its device: the same account name and
 * device id with another key (a re-registered account) do not accept it. `keyId`
 * lets the keys rotate: new tokens are made under the newest key, older keys
 * still verify the tokens made under them until those expire. Nothing about
 * issued tokens is stored; a removed device's tokens fail at the device lookup.
 */
const VERSION = 2;
const MAC_BYTES = 32;
const HEADER_BYTES = 18;
const MAX_KEY_ID = 0xffff_ffff;

export interface TokenClaims {
  readonly account: string;
  readonly deviceId: number;
  readonly expiresAt: number;
}

/** A token whose layout is sound, not yet checked against its device's key. */
export interface PresentedToken extends TokenClaims {
  readonly keyId: number;
  readonly bytes: Uint8Array;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** A single MAC with no key id is the keyring of one key, id 0 (tests, embedders). */
function keyringOf(mac: MacKeyring | MessageAuthenticator): MacKeyring {
  if (typeof mac !== 'function') return mac;
  return { currentKeyId: 0, macUnder: (keyId) => (keyId === 0 ? mac : undefined) };
}

function withIdentityKey(body: Uint8Array, identityKey: Uint8Array): Uint8Array {
  const message = new Uint8Array(body.length + identityKey.length);
  message.set(body);
  message.set(identityKey, body.length);
  return message;
}

export class TokenIssuer {
  readonly #keys: MacKeyring;

  constructor(keys: MacKeyring | MessageAuthenticator) {
    this.#keys = keyringOf(keys);
    const { currentKeyId } = this.#keys;
    if (!Number.isSafeInteger(currentKeyId) || currentKeyId < 0 || currentKeyId > MAX_KEY_ID) {
      throw new RangeError('a token key id is a 32-bit unsigned integer');
    }
    if (this.#keys.macUnder(currentKeyId) === undefined) throw new RangeError('the current token key is missing');
  }

  /** A token for `claims`, bound to the device's `identityKey`, under the current key. */
  issue(claims: TokenClaims, identityKey: Uint8Array): Uint8Array {
    const account = utf8.encode(claims.account);
    if (account.length > 0xff) throw new RangeError('an account name in a token is at most 255 bytes');
    const keyId = this.#keys.currentKeyId;
    const body = new Uint8Array(HEADER_BYTES + account.length);
    const view = new DataView(body.buffer);
    view.setUint8(0, VERSION);
    view.setUint32(1, keyId);
    view.setUint32(5, claims.deviceId);
    view.setBigUint64(9, BigInt(claims.expiresAt));
    view.setUint8(17, account.length);
    body.set(account, HEADER_BYTES);
    const mac = (this.#keys.macUnder(keyId) as MessageAuthenticator)(withIdentityKey(body, identityKey));
    const token = new Uint8Array(body.length + mac.length);
    token.set(body);
    token.set(mac, body.length);
    return token;
  }

  /**
   * Reads a token's claims if its layout is sound and it has not expired at
   * `now`; says nothing yet about whether it is genuine (`verify` does, with the
   * identity key of the device it names).
   */
  read(token: Uint8Array, now: number): PresentedToken | undefined {
    if (token.length < HEADER_BYTES + MAC_BYTES + 1 || token[0] !== VERSION) return undefined;
    const view = new DataView(token.buffer, token.byteOffset, token.byteLength);
    const accountLength = view.getUint8(17);
    if (accountLength === 0 || token.length !== HEADER_BYTES + accountLength + MAC_BYTES) return undefined;
    const expiresAt = Number(view.getBigUint64(9));
    if (expiresAt <= now) return undefined;
    return {
      keyId: view.getUint32(1),
      deviceId: view.getUint32(5),
      expiresAt,
      account: fromUtf8.decode(token.subarray(HEADER_BYTES, HEADER_BYTES + accountLength)),
      bytes: token,
    };
  }

  /** True when `token` was made by this server, under a key it still keeps, for the device holding `identityKey`. */
  verify(token: PresentedToken, identityKey: Uint8Array): boolean {
    const mac = this.#keys.macUnder(token.keyId);
    if (mac === undefined) return false;
    const bodyLength = token.bytes.length - MAC_BYTES;
    const expected = mac(withIdentityKey(token.bytes.subarray(0, bodyLength), identityKey));
    return constantTimeEqual(expected, token.bytes.subarray(bodyLength));
  }
}
