import { isPreKeyMessage, SenderCertificate } from '@pulse/crypto';
import type { FrameOf, RequestFrame } from '@pulse/proto';
import { type AnonymousConnection, answersTheEnvelopes } from './anonymous-connection.ts';
import { fromBase64, toBase64 } from './base64.ts';
import type { PulseConnection } from './connection/connection.ts';
import type { HandshakeSession } from './connection/handshake.ts';
import { PAYLOAD_KIND } from './content.ts';
import type { CertifiedDevice, DeviceAddress, E2EEngine, SealedContent, UnsealedEnvelope } from './e2e/engine.ts';
import { PulseError } from './errors.ts';

/**
 * Sealed sender in the SDK (PROTOCOL.md "Sealed sender", Signal's construction):
 * envelopes to a contact whose delivery token this profile holds go as
 * `sealed_send`, the sender's certificate sealed inside, so the server stores
 * them without a sender; everything else goes as a plain `send`.
 *
 * - Profile key: every account has one, derived from its account identity key
 *   pair (which every device of the account holds, so all derive the same one).
 *   It travels to contacts inside end-to-end encrypted content (`pk`, content.ts)
 *   with every 1:1 message, as Signal's DataMessage.profileKey does.
 * - Delivery token: HKDF of the profile key; this device registers the
 *   account's with the server (`set_delivery_token`); each contact's profile key
 *   is kept, its token derived when first sealed to.
 * - Trust root: pinned the first time this profile meets the server
 *   (`/pulse/info`), never replaced; certificates under any other root are refused.
 * - Sender certificate: fetched when needed, kept in memory, fetched again once
 *   half of its lifetime has passed.
 * - Anonymous connection: `sealed_send` goes over a second connection that
 *   never authenticates (anonymous-connection.ts), so the server does not know
 *   which account sends it; when that path fails it goes, still sealed, over
 *   the authenticated connection (the server then knows the connection, and
 *   stores no sender either way), never as a plain `send`.
 */

/** What the profile keeps of sealed sender (profile.ts `sealedSender`). */
export interface SealedSenderRecord {
  /** Server URL → its trust root (base64, 33 bytes), pinned the first time this profile met that server. */
  trustRoots: Record<string, string>;
  /** Contact account → the profile key (base64) it sent last: its delivery token derives from it. */
  profileKeys: Record<string, string>;
  /** Server URL → the delivery token (base64) this device registered there: sent once, not on every connect. */
  registered?: Record<string, string>;
}

export interface SealedSenderDeps {
  /** The profile's state: its `sealedSender` part is owned here; the account identity is read. */
  readonly state: { sealedSender?: SealedSenderRecord; accountIdentity?: string };
  readonly engine: E2EEngine;
  readonly connection: PulseConnection;
  /** The anonymous connection sealed sends try first; absent: they go over `connection`. */
  readonly anonymous?: Pick<AnonymousConnection, 'usable' | 'sealedSend'> | undefined;
  /** The server this client talks to (trust roots are pinned per server). */
  readonly server: string;
  /** Send sealed when possible (SDK option `sealedSender`, default true). Receiving works either way. */
  readonly enabled: boolean;
  /** This device. */
  readonly self: () => DeviceAddress;
  /** The trust root the server publishes (`/pulse/info`); undefined when it publishes none or cannot be asked. */
  readonly publishedTrustRoot: () => Promise<Uint8Array | undefined>;
  readonly now: () => number;
  readonly problem: (reason: string) => void;
  readonly persist: () => Promise<void>;
}

const PROFILE_KEY_INFO = 'pulse/v1/profile-key';
const DELIVERY_TOKEN_INFO = 'pulse/v1/delivery-token';
/** base64 of 32 bytes. */
const PROFILE_KEY = /^[A-Za-z0-9+/]{43}=$/;

/** HKDF-SHA-256 (RFC 5869), no salt, 32 bytes, with WebCrypto (Node and browsers alike). */
async function hkdf32(ikm: Uint8Array, info: string): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', ikm as BufferSource, 'HKDF', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: new TextEncoder().encode(info) },
    key,
    256,
  );
  return new Uint8Array(bits);
}

/** The delivery token of a profile key (PROTOCOL.md "Sealed sender"). */
export function deliveryTokenOf(profileKey: Uint8Array): Promise<Uint8Array> {
  return hkdf32(profileKey, DELIVERY_TOKEN_INFO);
}

/** What libsignal's content type calls an envelope payload (content.ts PAYLOAD_KIND). */
function sealedType(payload: Uint8Array): SealedContent['type'] {
  if (payload[0] === PAYLOAD_KIND.group) return 'senderkey';
  return isPreKeyMessage(payload.subarray(1)) ? 'prekey' : 'message';
}

export class SealedSender {
  readonly #deps: SealedSenderDeps;
  /** This account's profile key and delivery token, once derived (`onReady`). */
  #own: { readonly key: string; readonly token: Uint8Array } | undefined;
  /** Contacts' delivery tokens by profile key (derived when first sealed to). */
  readonly #tokens = new Map<string, Uint8Array>();
  #certificate: { readonly bytes: Uint8Array; readonly refreshAt: number; readonly expiresAt: number } | undefined;
  #fetching: Promise<Uint8Array | undefined> | undefined;

  constructor(deps: SealedSenderDeps) {
    this.#deps = deps;
  }

  get #record(): SealedSenderRecord {
    const record = this.#deps.state.sealedSender ?? { trustRoots: {}, profileKeys: {} };
    this.#deps.state.sealedSender = record;
    record.trustRoots ??= {};
    record.profileKeys ??= {};
    return record;
  }

  /** The pinned trust root, if any. */
  get trustRoot(): Uint8Array | undefined {
    const pinned = this.#deps.state.sealedSender?.trustRoots?.[this.#deps.server];
    return pinned === undefined ? undefined : fromBase64(pinned);
  }

  /**
   * Every (re)connection: pins the server's trust root while none is pinned,
   * then registers this account's delivery token if this device has not yet.
   * Once pinned, the root is never replaced: a server that changed it hands
   * out certificates this profile refuses (reported as a problem), and sends
   * go plain.
   */
  async onReady(session: HandshakeSession): Promise<void> {
    const record = this.#record;
    const { server } = this.#deps;
    if (record.trustRoots[server] === undefined) {
      const published = await this.#deps.publishedTrustRoot().catch(() => undefined);
      if (published !== undefined) record.trustRoots[server] = toBase64(published);
    }
    const own = await this.#derive();
    if (record.trustRoots[server] === undefined || own === undefined) return;
    const token = toBase64(own.token);
    if (record.registered?.[server] === token) return;
    await session.request({ type: 'set_delivery_token', token: own.token });
    record.registered = { ...record.registered, [server]: token };
    await this.#deps.persist();
  }

  /**
   * This account's profile key (base64), shared with contacts inside end-to-end
   * encrypted content; undefined until the first connection derived it.
   */
  get profileKey(): string | undefined {
    return this.#own?.key;
  }

  /** Whether envelopes to `to` can go sealed now (else `seal` is not worth asking). */
  sealable(to: string): boolean {
    const record = this.#deps.state.sealedSender;
    return (
      this.#deps.enabled &&
      this.trustRoot !== undefined &&
      record?.profileKeys?.[to] !== undefined &&
      to !== this.#deps.self().account
    );
  }

  /** A contact sent its profile key (with every message): kept for its delivery token (the caller saves the profile). */
  learn(account: string, profileKey: string): void {
    if (PROFILE_KEY.test(profileKey)) this.#record.profileKeys[account] = profileKey;
  }

  /**
   * The `sealed_send` for these envelopes, or undefined when they must go as a
   * plain `send`: sealing off, this account's own devices, no delivery token for
   * `to`, no pinned root, no valid certificate, or a device without a session.
   */
  async seal(
    to: string,
    envelopes: readonly { deviceId: number; payload: Uint8Array }[],
  ): Promise<RequestFrame<'sealed_send'> | undefined> {
    const profileKey = this.#deps.state.sealedSender?.profileKeys[to];
    if (!this.sealable(to) || profileKey === undefined) return undefined;
    const deliveryToken = await this.#tokenOf(profileKey);
    const certificate = await this.#currentCertificate();
    if (certificate === undefined) return undefined;
    const sealed: { deviceId: number; payload: Uint8Array }[] = [];
    for (const { deviceId, payload } of envelopes) {
      const content = { type: sealedType(payload), payload };
      const bytes = await this.#deps.engine.seal({ account: to, deviceId }, certificate, content);
      if (bytes === undefined) return undefined;
      sealed.push({ deviceId, payload: bytes });
    }
    return { type: 'sealed_send', to, deliveryToken, envelopes: sealed };
  }

  /**
   * Sends a `sealed_send` made by `seal`: over the anonymous connection while it
   * is usable, else (or when it fails: refused, closed, timed out) over the
   * authenticated one. A refusal of the envelopes themselves (UNAUTHORIZED,
   * DEVICES_MISMATCH, QUEUE_FULL...) is the caller's, whichever connection said it.
   * A send whose answer was lost when the anonymous connection closed may reach
   * the recipient twice: the second copy fails to decrypt (its message key is
   * used up) and is dropped, as any replay is.
   */
  async send(frame: RequestFrame<'sealed_send'>): Promise<void> {
    const anonymous = this.#deps.anonymous;
    if (anonymous?.usable === true) {
      try {
        await anonymous.sealedSend(frame);
        return;
      } catch (error) {
        if (answersTheEnvelopes(error)) throw error;
      }
    }
    await this.#deps.connection.request(frame);
  }

  /**
   * The server refused the token (UNAUTHORIZED: `to` changed it, or the server lost it): plain
   * sends to `to` until its next message brings its profile key again.
   */
  forget(to: string): void {
    delete this.#deps.state.sealedSender?.profileKeys[to];
  }

  /**
   * Opens a sealed delivery: the certificate must chain to the pinned root and be
   * valid at the envelope's server time; `isExpectedSender` checks the device
   * and key against the sender's signed device list.
   */
  async open(
    frame: FrameOf<'deliver'>,
    isExpectedSender: (sender: CertifiedDevice) => Promise<boolean>,
  ): Promise<UnsealedEnvelope> {
    const trustRoot = this.trustRoot;
    if (trustRoot === undefined)
      throw new PulseError('UNTRUSTED_DEVICE', 'a sealed envelope, and no trust root pinned');
    return this.#deps.engine.unseal(frame.payload, {
      trustRoot,
      now: frame.serverTime,
      self: this.#deps.self(),
      isExpectedSender,
    });
  }

  /** A contact's delivery token, derived once per profile key. */
  async #tokenOf(profileKey: string): Promise<Uint8Array> {
    let token = this.#tokens.get(profileKey);
    if (token === undefined) {
      token = await deliveryTokenOf(fromBase64(profileKey));
      this.#tokens.set(profileKey, token);
    }
    return token;
  }

  /** Derives this account's profile key and token from its account identity (once it has one). */
  async #derive(): Promise<{ key: string; token: Uint8Array } | undefined> {
    const identity = this.#deps.state.accountIdentity;
    if (this.#own === undefined && identity !== undefined) {
      const key = await hkdf32(fromBase64(identity), PROFILE_KEY_INFO);
      this.#own = { key: toBase64(key), token: await deliveryTokenOf(key) };
    }
    return this.#own;
  }

  /** This device's certificate, fetched again once half its lifetime passed; undefined: none to be had. */
  async #currentCertificate(): Promise<Uint8Array | undefined> {
    const now = this.#deps.now();
    const held = this.#certificate;
    if (held !== undefined && now < held.refreshAt) return held.bytes;
    this.#fetching ??= this.#fetch(now).finally(() => {
      this.#fetching = undefined;
    });
    const fetched = await this.#fetching;
    // A failed refresh keeps using the one held while it is still valid.
    return fetched ?? (held !== undefined && now < held.expiresAt ? held.bytes : undefined);
  }

  async #fetch(now: number): Promise<Uint8Array | undefined> {
    const trustRoot = this.trustRoot;
    if (trustRoot === undefined) return undefined;
    let answer: FrameOf<'certificate'>;
    try {
      answer = await this.#deps.connection.request({ type: 'sender_certificate' });
    } catch {
      return undefined;
    }
    // Checked as a recipient will check it: a certificate nobody would accept is not worth sealing with.
    const self = this.#deps.self();
    try {
      const certificate = SenderCertificate.deserialize(answer.certificate);
      certificate.validate({ trustRoots: [trustRoot], now });
      const mine =
        certificate.account === self.account &&
        certificate.deviceId === self.deviceId &&
        toBase64(certificate.identityKey) === toBase64(this.#deps.engine.identityKey);
      if (!mine) throw new Error('it names another device or key');
    } catch (error) {
      this.#deps.problem(`the server's sender certificate is refused: ${(error as Error).message}`);
      return undefined;
    }
    const lifetime = Math.max(0, answer.expiresAt - now);
    this.#certificate = { bytes: answer.certificate, refreshAt: now + lifetime / 2, expiresAt: answer.expiresAt };
    return answer.certificate;
  }
}
