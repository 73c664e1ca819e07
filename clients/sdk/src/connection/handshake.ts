import {
  authSignedMessage,
  type FrameOf,
  PROTOCOL_VERSIONS,
  registerSignedMessage,
  type SignedDeviceList,
} from '@pulse/proto';
import { PulseError } from '../errors.ts';
import type { TransportKind } from '../transport/types.ts';
import type { Answer, RequestFrame, RequestType } from './requests.ts';

/**
 * The handshake on every (re)connection (PROTOCOL.md "Handshake and
 * authentication"): `hello` → `welcome` (the Greeting), then `register`,
 * `auth_token` or `auth` (the Authenticator), run by the ready hook.
 */

/** What the ready hook gets: the welcome and a way to send requests before the connection counts as connected. */
export interface HandshakeSession {
  readonly welcome: FrameOf<'welcome'>;
  readonly transport: TransportKind;
  request<T extends RequestType>(frame: RequestFrame<T>): Promise<Answer<T>>;
  /** Rejects when this connection's transport closes (or the client closes) before the hook finishes. */
  readonly closed: Promise<never>;
}

/** Runs after `welcome` on every (re)connection, before the connection counts as connected. */
export type ReadyHook = (session: HandshakeSession) => Promise<void>;

/** Sends `hello` on a fresh transport and waits for the server's `welcome`. */
export class Greeting {
  #waiting: { resolve(frame: FrameOf<'welcome'>): void; reject(error: Error): void } | undefined;

  /** Sends `hello` through `send`; resolves with the welcome, rejects after `timeoutMs` or with what came instead. */
  start(send: (frame: FrameOf<'hello'>) => void, clientName: string, timeoutMs: number): Promise<FrameOf<'welcome'>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting = undefined;
        reject(new PulseError('TIMEOUT', 'the server did not answer hello'));
      }, timeoutMs);
      this.#waiting = {
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      send({ type: 'hello', versions: [...PROTOCOL_VERSIONS], client: clientName });
    });
  }

  /** The server said welcome. */
  welcome(frame: FrameOf<'welcome'>): void {
    this.#waiting?.resolve(frame);
    this.#waiting = undefined;
  }

  /** The server refused (an `error` or `close` instead of `welcome`) or the transport closed; true when a greeting was waiting. */
  fail(error: Error): boolean {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.reject(error);
    return waiting !== undefined;
  }
}

/** Signs handshake messages with this device's identity key (the E2E engine). */
export interface HandshakeSigner {
  readonly identityKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

/** A token counts as valid this long before it expires (clock skew, a slow reconnect). */
const TOKEN_MARGIN_MS = 60_000;

/**
 * Proves who this device is after `welcome`: `register` for a new account,
 * else `auth_token` with the token of the last `auth_ok` while it is valid,
 * else `auth` with an XEdDSA signature over the connection's fresh challenge.
 * Keeps that token (in memory only) across reconnects.
 */
export class Authenticator {
  readonly #signer: HandshakeSigner;
  #token: { token: Uint8Array; expiresAt: number } | undefined;

  constructor(signer: HandshakeSigner) {
    this.#signer = signer;
  }

  /** Creates `account` with this device as its device 1, under `accountKey`, which signed `deviceList`. */
  async register(
    session: HandshakeSession,
    account: string,
    deviceName: string,
    accountKey: Uint8Array,
    deviceList: SignedDeviceList,
  ): Promise<FrameOf<'auth_ok'>> {
    const identityKey = this.#signer.identityKey;
    const signature = this.#signer.sign(registerSignedMessage(session.welcome.challenge, account, identityKey));
    const ok = await session.request({
      type: 'register',
      account,
      deviceName,
      identityKey,
      signature,
      accountKey,
      deviceList,
    });
    this.#keep(ok);
    return ok;
  }

  /** Authenticates device `deviceId` of `account`. */
  async authenticate(session: HandshakeSession, account: string, deviceId: number): Promise<void> {
    const token = this.#token;
    if (token !== undefined && token.expiresAt > Date.now() + TOKEN_MARGIN_MS) {
      try {
        this.#keep(await session.request({ type: 'auth_token', token: token.token }));
        return;
      } catch (error) {
        if (!PulseError.is(error, 'AUTH_FAILED')) throw error;
        this.#token = undefined;
      }
    }
    const signature = this.#signer.sign(authSignedMessage(session.welcome.challenge, account, deviceId));
    this.#keep(await session.request({ type: 'auth', account, deviceId, signature }));
  }

  #keep(ok: FrameOf<'auth_ok'>): void {
    this.#token = { token: ok.token, expiresAt: ok.tokenExpiresAt };
  }
}
