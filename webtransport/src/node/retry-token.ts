/**
 * Stateless Retry (RFC 9000 §8.1.2, §17.2.5): under load the server answers an
 * Initial with a Retry carrying this token and keeps nothing; only a client
 * that receives the Retry at its address can echo the token, so connection state
 * is spent only on addresses that answer (spoofed floods cost one packet each).
 *
 * Token (ours alone, opaque to the client):
 *   version 0x01 || issuedAt ms (8) || len(odcid) (1) || odcid || tag (16)
 * tag = HMAC-SHA256(key, token body || retry scid || peer address || peer port),
 * truncated to 16 bytes, under a random key made per server: a token is good
 * for one address, one Retry, `lifetimeMs`, and one server run.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { HostPort } from './quiche-config.ts';

const VERSION = 1;
const TAG_BYTES = 16;
const HEADER_BYTES = 10;
/** How long a Retry token is accepted: a round trip, with room for slow links. */
export const RETRY_TOKEN_LIFETIME_MS = 10_000;

export class RetryTokens {
  readonly #key = randomBytes(32);
  readonly #lifetimeMs: number;

  constructor(lifetimeMs = RETRY_TOKEN_LIFETIME_MS) {
    this.#lifetimeMs = lifetimeMs;
  }

  /** The token for a Retry that tells `peer` to come back with destination id `retryScid`. */
  mint(odcid: Uint8Array, retryScid: Uint8Array, peer: HostPort, now: number): Uint8Array {
    const body = Buffer.alloc(HEADER_BYTES + odcid.length);
    body.writeUInt8(VERSION, 0);
    body.writeBigUInt64BE(BigInt(Math.floor(now)), 1);
    body.writeUInt8(odcid.length, 9);
    body.set(odcid, HEADER_BYTES);
    return new Uint8Array(Buffer.concat([body, this.#tag(body, retryScid, peer)]));
  }

  /**
   * The original destination connection id a genuine, fresh token carries, when
   * it comes from `peer` to `dcid` (the id our Retry named); else undefined.
   */
  validate(token: Uint8Array, dcid: Uint8Array, peer: HostPort, now: number): Uint8Array | undefined {
    if (token.length < HEADER_BYTES + TAG_BYTES || token[0] !== VERSION) return undefined;
    const bytes = Buffer.from(token.buffer, token.byteOffset, token.byteLength);
    const odcidLength = bytes.readUInt8(9);
    if (odcidLength > 20 || token.length !== HEADER_BYTES + odcidLength + TAG_BYTES) return undefined;
    const body = bytes.subarray(0, HEADER_BYTES + odcidLength);
    if (!timingSafeEqual(this.#tag(body, dcid, peer), bytes.subarray(body.length))) return undefined;
    const issuedAt = Number(bytes.readBigUInt64BE(1));
    if (now < issuedAt || now >= issuedAt + this.#lifetimeMs) return undefined;
    return new Uint8Array(body.subarray(HEADER_BYTES));
  }

  #tag(body: Uint8Array, retryScid: Uint8Array, peer: HostPort): Buffer {
    const port = Buffer.alloc(2);
    port.writeUInt16BE(peer.port);
    return createHmac('sha256', this.#key)
      .update(body)
      .update(retryScid)
      .update(peer.host)
      .update(port)
      .digest()
      .subarray(0, TAG_BYTES);
  }
}
