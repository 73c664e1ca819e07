/**
 * What the sans-I/O HTTP/3 connection reports to the edge (events) and asks it
 * to do (actions). Both are plain data: the edge owns every socket and timer.
 */
import type { FieldLine } from '../qpack/field-section.ts';
import type { Capsule } from './capsule-reader.ts';

export type H3Event =
  | { readonly type: 'settings'; readonly settings: ReadonlyMap<number, number> }
  /** A request (server) or response (client) head on a request stream. */
  | { readonly type: 'headers'; readonly streamId: number; readonly fields: FieldLine[] }
  /** Body bytes of an ordinary request or response (not a WebTransport session). */
  | { readonly type: 'body'; readonly streamId: number; readonly chunk: Uint8Array }
  /** A capsule on an established WebTransport CONNECT stream. */
  | { readonly type: 'capsule'; readonly streamId: number; readonly capsule: Capsule }
  /** The peer finished its side of a request stream. */
  | { readonly type: 'request-end'; readonly streamId: number }
  /** The peer reset a request stream (for a session: abrupt close). */
  | { readonly type: 'request-reset'; readonly streamId: number; readonly code: number }
  /** A new WebTransport stream; later bytes bypass the HTTP/3 layer. */
  | {
      readonly type: 'webtransport-stream';
      readonly sessionId: number;
      readonly streamId: number;
      readonly bidirectional: boolean;
      readonly data: Uint8Array;
      readonly fin: boolean;
    }
  | { readonly type: 'datagram'; readonly sessionId: number; readonly payload: Uint8Array }
  | { readonly type: 'goaway'; readonly id: number };

export type H3Action =
  | { readonly type: 'write'; readonly streamId: number; readonly data: Uint8Array; readonly fin: boolean }
  /** Reset our sending side and ask the peer to stop (STOP_SENDING) with `code`. */
  | { readonly type: 'reset'; readonly streamId: number; readonly code: number };
