import type { FrameOf, FrameType } from '@pulse/proto';
import type { PresenceMember } from '../channels/channel.ts';
import type { Subscriptions } from '../channels/subscriptions.ts';
import type { TransportKind } from '../connection.ts';
import type { RouterContext } from '../context.ts';
import type { EnvelopeDelivery } from '../delivery.ts';
import type { AnonymousPass } from '../session/anonymous-senders.ts';
import type { EphemeralBudget } from '../session/ephemeral-lane.ts';
import type { SessionOutput } from '../session/output.ts';
import type { Address } from '../store.ts';

/**
 * Where a session is in its life (PROTOCOL.md "Handshake and authentication"):
 * `anonymous` is a connection that asked for it in `hello` and only sends
 * sealed envelopes; it never authenticates (PROTOCOL.md "Anonymous connections").
 */
export type SessionState = 'hello' | 'unauthenticated' | 'anonymous' | 'authenticated' | 'closed';

/**
 * When a request is accepted: `always` (even before `hello`), `greeted` (after
 * `hello`), `authenticated` (after `auth_ok`). Earlier: AUTH_REQUIRED.
 */
export type Phase = 'always' | 'greeted' | 'authenticated';

/** What a request handler sees of its session. */
export interface RequestSession {
  readonly state: SessionState;
  readonly out: SessionOutput;
  readonly transport: TransportKind;
  /** The peer's IP address, or UNKNOWN_ADDRESS. */
  readonly remoteAddress: string;
  /** This connection's `welcome.challenge`: what register, auth and link_request signatures cover. */
  readonly challenge: Uint8Array;
  /** A random key naming this connection (the auth-attempt budget of a peer without an address). */
  readonly connectionKey: string;
  /** The authenticated device (after `auth_ok`). */
  readonly device: Address;
  /** An anonymous connection's bounds (state `anonymous`); undefined on every other connection. */
  readonly anonymous: AnonymousPass | undefined;
  readonly member: PresenceMember;
  readonly subscriptions: Subscriptions;
  /** This connection's budget of ephemeral envelopes (`ephemeral_rate`, `ephemeral_burst`). */
  readonly ephemeral: EphemeralBudget;
  /** Envelope delivery to the authenticated device (after `auth_ok`). */
  readonly delivery: EnvelopeDelivery | undefined;
  /** `hello`: negotiates the version and answers `welcome`. */
  acceptHello(frame: FrameOf<'hello'>, now: number): void;
  /** The connection proved to be `device`: answers `auth_ok` (request `id`) and starts delivery. */
  authenticated(id: number, device: Address, now: number): Promise<void>;
  /** The peer sent `close`. */
  peerClosed(): void;
}

/**
 * The one shape of every request handler. Refusals are thrown (or rejected) as
 * PulseError (the session answers `error`). A handler that reads or writes the
 * store returns a promise; the session handles its next frame once it settles.
 */
export type RequestHandler<T extends FrameType> = (
  ctx: RouterContext,
  session: RequestSession,
  frame: FrameOf<T>,
  now: number,
) => void | Promise<void>;

export interface RequestEntry<T extends FrameType> {
  readonly phase: Phase;
  /** Also accepted on an anonymous connection (`sealed_send` and `pong`, besides the `always` requests). */
  readonly anonymous?: true;
  readonly handle: RequestHandler<T>;
}

/** The frame types a client may send. */
export type RequestType =
  | 'hello'
  | 'ping'
  | 'pong'
  | 'close'
  | 'register'
  | 'auth'
  | 'auth_token'
  | 'device_list'
  | 'device_list_update'
  | 'link_request'
  | 'link_list'
  | 'prekeys_upload'
  | 'bundle_fetch'
  | 'send'
  | 'sender_certificate'
  | 'set_delivery_token'
  | 'sealed_send'
  | 'deliver_ack'
  | 'sync'
  | 'send_ephemeral'
  | 'subscribe'
  | 'unsubscribe'
  | 'publish';

export type RequestTable = { readonly [T in RequestType]: RequestEntry<T> };
