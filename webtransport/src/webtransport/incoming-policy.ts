/**
 * What an application reads of what the peer sends on a session, and the
 * decision for each stream the peer opens: taken (queued for
 * `incoming*Streams`), or refused at once, so bytes nobody will read are never
 * kept. A refused stream gets STOP_SENDING (and RESET_STREAM when it is
 * bidirectional) with one of REFUSAL_CODE, mapped to HTTP/3 as every
 * WebTransport application code is (draft-ietf-webtrans-http3 §4.4). Pure: the
 * edge applies the decision.
 */
import { queuedCost } from './receive-budget.ts';

export interface IncomingPolicy {
  /** Peer-opened bidirectional streams delivered over the session's life (Infinity: any number; 0: none). */
  readonly bidirectionalStreams: number;
  /** Peer-opened unidirectional streams delivered over the session's life (Infinity: any number; 0: none). */
  readonly unidirectionalStreams: number;
  /** Whether received datagrams are queued for `datagrams.readable`; false drops them on arrival. */
  readonly datagrams: boolean;
  /**
   * The largest datagram payload queued (Infinity: any QUIC delivers, which may
   * be near 64 KiB); a larger one is dropped on arrival and counted, as a
   * datagram nobody reads is.
   */
  readonly maxDatagramBytes: number;
}

/** The W3C default: everything the peer sends is offered to the application. */
export const ACCEPT_EVERYTHING: IncomingPolicy = Object.freeze({
  bidirectionalStreams: Number.POSITIVE_INFINITY,
  unidirectionalStreams: Number.POSITIVE_INFINITY,
  datagrams: true,
  maxDatagramBytes: Number.POSITIVE_INFINITY,
});

/**
 * WebTransport application error codes (32-bit) this package sends when it
 * refuses a stream on the application's behalf; 0x5754 spells "WT". The peer
 * sees them as `WebTransportError.streamErrorCode`.
 */
export const REFUSAL_CODE = Object.freeze({
  /** The application does not take this stream (IncomingPolicy), or has not taken the ones already waiting. */
  STREAM_REFUSED: 0x5754_0001,
  /** The stream's first bytes do not fit the session's or the connection's receive budget. */
  RECEIVE_BUDGET_EXCEEDED: 0x5754_0002,
});

/** `base` with overrides; refuses counts that are not whole and non-negative. */
export function incomingPolicy(
  overrides: Partial<IncomingPolicy> = {},
  base: IncomingPolicy = ACCEPT_EVERYTHING,
): IncomingPolicy {
  const policy = { ...base, ...overrides };
  for (const name of ['bidirectionalStreams', 'unidirectionalStreams'] as const) {
    const count = policy[name];
    if (!(count === Number.POSITIVE_INFINITY || (Number.isSafeInteger(count) && count >= 0))) {
      throw new RangeError(`incoming ${name} must be a whole number ≥ 0 or Infinity, got ${String(count)}`);
    }
  }
  if (typeof policy.datagrams !== 'boolean') throw new RangeError('incoming datagrams must be true or false');
  const max = policy.maxDatagramBytes;
  if (!(max === Number.POSITIVE_INFINITY || (Number.isSafeInteger(max) && max > 0))) {
    throw new RangeError(`incoming maxDatagramBytes must be a whole number > 0 or Infinity, got ${String(max)}`);
  }
  return Object.freeze(policy);
}

/** Whether a received datagram of `bytes` is for the application (it may still find no room). */
export function acceptsDatagram(policy: IncomingPolicy, bytes: number): boolean {
  return policy.datagrams && bytes <= policy.maxDatagramBytes;
}

/** Where a session stands for one direction when the peer opens a stream in it. */
export interface IncomingStreamContext {
  readonly policy: IncomingPolicy;
  readonly bidirectional: boolean;
  /** Streams of this direction already delivered to the application. */
  readonly accepted: number;
  /** Streams of this direction queued and not taken by the application yet, and how many may be. */
  readonly queued: number;
  readonly queueLength: number;
  /** Bytes read with the stream's header (they must be queued), and the budget's room for them. */
  readonly firstBytes: number;
  readonly room: number;
}

export type IncomingStreamDecision =
  | { readonly type: 'accept' }
  | {
      readonly type: 'refuse';
      readonly reason: 'policy' | 'queue-full' | 'over-budget';
      /** The WebTransport application code for STOP_SENDING / RESET_STREAM. */
      readonly code: number;
    };

const ACCEPT: IncomingStreamDecision = Object.freeze({ type: 'accept' });

export function decideIncomingStream(context: IncomingStreamContext): IncomingStreamDecision {
  const allowed = context.bidirectional ? context.policy.bidirectionalStreams : context.policy.unidirectionalStreams;
  if (context.accepted >= allowed) return { type: 'refuse', reason: 'policy', code: REFUSAL_CODE.STREAM_REFUSED };
  // Taken streams are the application's; untaken ones (finished ones free their QUIC slot) must not pile up.
  if (context.queued >= context.queueLength) {
    return { type: 'refuse', reason: 'queue-full', code: REFUSAL_CODE.STREAM_REFUSED };
  }
  if (context.firstBytes > 0 && queuedCost(context.firstBytes) > context.room) {
    return { type: 'refuse', reason: 'over-budget', code: REFUSAL_CODE.RECEIVE_BUDGET_EXCEEDED };
  }
  return ACCEPT;
}
