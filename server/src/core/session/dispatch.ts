import type { Frame, FrameType } from '@pulse/proto';
import type { RouterContext } from '../context.ts';
import { PulseError } from '../errors.ts';
import type { Phase, RequestSession } from '../requests/request.ts';
import { REQUESTS } from '../requests/table.ts';

/** An entry whatever its frame type (the table pairs each type with its own handler). */
interface AnyEntry {
  readonly phase: Phase;
  readonly anonymous?: true;
  readonly handle: (ctx: RouterContext, session: RequestSession, frame: never, now: number) => void | Promise<void>;
}

/** The table by any frame type: frames that are not requests have no entry. */
const ENTRIES: Readonly<Partial<Record<FrameType, AnyEntry>>> = REQUESTS;

/**
 * Hands a decoded frame to its entry in the request table, once the session's
 * state allows it (PROTOCOL.md "Handshake and authentication"): before `hello`
 * only `always` requests; before `auth_ok` no `authenticated` ones. A frame
 * that is no request counts as an `authenticated` one, so an unauthenticated
 * peer learns nothing more than AUTH_REQUIRED. An anonymous connection never
 * authenticates: besides the `always` requests it may send only those marked
 * `anonymous` (`sealed_send`, `pong`; PROTOCOL.md "Anonymous connections"), anything
 * else is AUTH_REQUIRED. Settles when the handler has answered (a refusal
 * rejects with its PulseError).
 */
export async function dispatch(ctx: RouterContext, session: RequestSession, frame: Frame, now: number): Promise<void> {
  const entry = ENTRIES[frame.type];
  const phase = entry?.phase ?? 'authenticated';
  if (session.state === 'hello' && phase !== 'always') throw new PulseError('AUTH_REQUIRED', 'send hello first');
  if (session.state === 'anonymous') {
    if (phase !== 'always' && entry?.anonymous !== true) {
      throw new PulseError('AUTH_REQUIRED', `${frame.type} is not accepted on an anonymous connection`);
    }
  } else if (session.state !== 'authenticated' && phase === 'authenticated') {
    throw new PulseError('AUTH_REQUIRED', `${frame.type} needs an authenticated connection`);
  }
  // Server-to-client frames sent by a client.
  if (entry === undefined) throw new PulseError('PROTO_UNKNOWN_TYPE', `${frame.type} is not a request`);
  // The entry for frame.type takes exactly this frame; the table's type guarantees the pairing.
  await entry.handle(ctx, session, frame as never, now);
}
