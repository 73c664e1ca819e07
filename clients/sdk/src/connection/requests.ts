import {
  type Answer,
  type AnswerOf,
  type Frame,
  type FrameType,
  REQUEST_ANSWERS,
  type RequestFrame,
  type RequestType,
} from '@pulse/proto';
import { PulseError, type PulseErrorCode } from '../errors.ts';

export type { Answer, RequestFrame, RequestType };

/** The frame type that answers a request of `type` successfully (@pulse/proto's table). */
export function answerTypeOf<T extends RequestType>(type: T): AnswerOf[T] {
  return REQUEST_ANSWERS[type];
}

/** Request ids are u32 (PROTOCOL.md "Field formats"); 0 is never used. */
const MAX_REQUEST_ID = 0xffff_ffff;

/** Times one request refused unread (`RATE_LIMITED` without id) is sent again before it fails with RATE_LIMITED. */
export const MAX_RATE_LIMITED_RESENDS = 3;

/**
 * Requests the server answers only after the durable commit (PROTOCOL.md
 * `send`): unanswered at a barrier, they may be committing, so they are never
 * sent again (that could store them twice).
 */
const ANSWERED_AFTER_COMMIT: ReadonlySet<string> = new Set(['send', 'sealed_send']);

/** After a RATE_LIMITED pause, frames leave one per `retryAfterMs` × this (at least)... */
const DRIP_SLACK = 1.25;
/** ...and never slower than one per this many ms. */
const MAX_DRIP_MS = 10_000;

interface Pending {
  readonly expect: FrameType;
  /** The request with its id, as sent (and sent again after a refusal unread). */
  readonly frame: Frame;
  readonly transmit: (frame: Frame) => void;
  /** Order of its latest transmission; 0 while it is held by a pause. */
  sequence: number;
  resends: number;
  resolve(frame: Frame): void;
  reject(error: Error): void;
  readonly timer: ReturnType<typeof setTimeout>;
}

export interface RequestTableLimits {
  /** How long a request waits for its answer. */
  readonly requestTimeoutMs: number;
  /** Requests in flight at once; beyond this `issue` fails fast. */
  readonly maxPendingRequests: number;
}

/**
 * Waits until the server has read every frame sent so far: sends a `ping` and
 * resolves on its `pong` (the server handles a connection's frames in order).
 * Rejects when the transport closes first.
 */
export type Barrier = () => Promise<void>;

/**
 * The requests in flight, by id: each request gets a fresh id and waits (at most
 * `requestTimeoutMs`) for the frame that carries that id. An `error` frame
 * rejects it with the server's code, an answer of another type with
 * UNEXPECTED_ANSWER. The caller sends the frames and hands in what arrives.
 *
 * An `error RATE_LIMITED` without id (`rateLimited`) means the server refused
 * frames without reading them (PROTOCOL.md `RATE_LIMITED`), so it will never
 * answer them. The table then
 * 1. holds every new request (and `hold`-ed frame) for `retryAfterMs`;
 * 2. sends a barrier (`ping`) and waits for its `pong`: every request sent
 *    before it has now been read, or refused unread;
 * 3. sends again, with the same id, every request sent before the barrier and
 *    still unanswered whose answer comes in order (all but `send`): the server
 *    never read it. After MAX_RATE_LIMITED_RESENDS such refusals it fails with
 *    RATE_LIMITED (`retryAfterMs` set). A `send` still unanswered may be
 *    in its durable commit, so it is never sent twice: it fails with
 *    RATE_LIMITED if no answer came within `retryAfterMs` after the barrier (its
 *    outcome is then unknown, as after CONNECTION_CLOSED);
 * 4. sends what it held, in order (after what went unread), one frame per
 *    1.25 × `retryAfterMs` (for an empty bucket, the time one frame's tokens take),
 *    the first one such interval after the barrier's pong, until nothing is
 *    left: a burst comes back at the server's rate, not all at once. Refused
 *    again meanwhile, the interval at least doubles (the hint is the time until
 *    one token, which a nearly refilled bucket puts at 1 ms).
 */
export class RequestTable {
  readonly #limits: RequestTableLimits;
  readonly #barrier: Barrier | undefined;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #sequence = 0;
  /** Frames held while paused, in order; undefined when not paused. */
  #held: (() => void)[] | undefined;
  #pausing = false;
  #pauseUntil = 0;
  #retryAfterMs = 0;
  /** The pace of the frames held by a pause: one per this many ms; 0 when nothing is held. */
  #dripMs = 0;
  #dripTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(limits: RequestTableLimits, barrier?: Barrier) {
    this.#limits = limits;
    this.#barrier = barrier;
  }

  /** Requests waiting for their answer. */
  get size(): number {
    return this.#pending.size;
  }

  /** True while a RATE_LIMITED pause, or the pacing after it, holds what is sent. */
  get paused(): boolean {
    return this.#held !== undefined;
  }

  /**
   * Gives `frame` an id, passes it to `transmit` (which encodes and sends it) and
   * resolves with its answer. When `transmit` throws, the request rejects with that error.
   */
  issue<T extends RequestType>(frame: RequestFrame<T>, transmit: (frame: Frame) => void): Promise<Answer<T>> {
    if (this.#pending.size >= this.#limits.maxPendingRequests) {
      return Promise.reject(new PulseError('TOO_MANY_REQUESTS', 'too many requests in flight'));
    }
    const id = this.#nextId;
    this.#nextId = this.#nextId >= MAX_REQUEST_ID ? 1 : this.#nextId + 1;
    const timeoutMs = this.#limits.requestTimeoutMs;
    return new Promise<Answer<T>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new PulseError('TIMEOUT', `no answer to ${frame.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      const pending: Pending = {
        expect: answerTypeOf(frame.type),
        frame: { ...frame, id } as Frame,
        transmit,
        sequence: 0,
        resends: 0,
        resolve: resolve as (f: Frame) => void,
        reject,
        timer,
      };
      this.#pending.set(id, pending);
      this.hold(() => this.#transmit(id, pending));
    });
  }

  /** Runs `send` now, or after a RATE_LIMITED pause (in order with the requests it holds). */
  hold(send: () => void): void {
    if (this.#held === undefined) send();
    else this.#held.push(send);
  }

  /**
   * Settles the request that `frame` answers. False when no request waits for
   * it: a frame without an id (a push), or a late answer to a timed-out request.
   */
  settle(frame: Frame): boolean {
    const id = 'id' in frame ? frame.id : undefined;
    const pending = id === undefined ? undefined : this.#take(id);
    if (pending === undefined) return false;
    if (frame.type === 'error') {
      const options = frame.retryAfterMs === undefined ? {} : { retryAfterMs: frame.retryAfterMs };
      pending.reject(new PulseError(frame.code as PulseErrorCode, frame.message, options));
    } else if (frame.type === pending.expect) {
      pending.resolve(frame);
    } else {
      pending.reject(new PulseError('UNEXPECTED_ANSWER', `expected ${pending.expect}, got ${frame.type}`));
    }
    return true;
  }

  /** The server refused frames unread (`error RATE_LIMITED` without id): pause, then find and resend them. */
  rateLimited(retryAfterMs: number): void {
    const now = Date.now();
    this.#retryAfterMs = Math.max(1, retryAfterMs);
    // The hint is the time until ONE token: a bucket refused when nearly refilled says 1 ms. Refused
    // again while pacing, the pace was too fast: it at least doubles (until the queue drains).
    this.#dripMs = Math.min(MAX_DRIP_MS, Math.max(Math.ceil(this.#retryAfterMs * DRIP_SLACK), 2 * this.#dripMs));
    this.#pauseUntil = Math.max(this.#pauseUntil, now + this.#retryAfterMs);
    this.#held ??= [];
    if (this.#pausing) return; // the pause under way ends at the new time
    this.#pausing = true;
    clearTimeout(this.#dripTimer);
    this.#waitOut(now);
  }

  /** Rejects every request in flight with `error` (the transport they were sent on is gone); a pause ends. */
  failAll(error: Error): void {
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.#pending.clear();
    this.#held = undefined;
    this.#pausing = false;
    this.#pauseUntil = 0;
    this.#dripMs = 0;
    clearTimeout(this.#dripTimer);
  }

  #waitOut(now: number): void {
    setTimeout(() => {
      const later = Date.now();
      if (later < this.#pauseUntil) this.#waitOut(later);
      else void this.#afterPause();
    }, this.#pauseUntil - now);
  }

  async #afterPause(): Promise<void> {
    const sentBefore = this.#sequence;
    const held = this.#held;
    try {
      await this.#barrier?.();
    } catch {
      return; // the transport closed: failAll has settled everything
    }
    if (this.#held !== held || held === undefined) return; // failed meanwhile
    if (Date.now() < this.#pauseUntil) {
      this.#waitOut(Date.now()); // refused again meanwhile: wait that out too
      return;
    }
    const refused = () =>
      new PulseError('RATE_LIMITED', 'the server refused this request unread too often', {
        retryAfterMs: this.#retryAfterMs,
      });
    const resend: (() => void)[] = [];
    for (const [id, pending] of this.#pending) {
      if (pending.sequence === 0 || pending.sequence > sentBefore) continue;
      if (ANSWERED_AFTER_COMMIT.has(pending.frame.type)) {
        setTimeout(() => {
          if (this.#pending.get(id) === pending) {
            this.#take(id);
            pending.reject(refused());
          }
        }, this.#retryAfterMs);
      } else if (++pending.resends > MAX_RATE_LIMITED_RESENDS) {
        this.#take(id);
        pending.reject(refused());
      } else {
        pending.sequence = 0; // held again: not a suspect at the next barrier until it is sent
        resend.push(() => this.#transmit(id, pending));
      }
    }
    this.#pausing = false;
    this.#pauseUntil = 0;
    // What went unread first, then what was held, one frame per retryAfterMs: the server's
    // retry hint for an empty bucket is the time one frame's tokens take (its rate). The
    // barrier's ping took the token the pause waited for: the first frame waits one more.
    held.unshift(...resend);
    this.#dripTimer = setTimeout(() => this.#drip(held), this.#dripInterval());
  }

  #drip(queue: (() => void)[]): void {
    if (this.#held !== queue || this.#pausing) return;
    const next = queue.shift();
    if (next === undefined) {
      this.#held = undefined;
      this.#dripMs = 0;
      return;
    }
    next();
    this.#dripTimer = setTimeout(() => this.#drip(queue), this.#dripInterval());
  }

  /** A little slower than the server's rate (heartbeat pings and acks take tokens too), slower after each refusal. */
  #dripInterval(): number {
    return this.#dripMs;
  }

  #transmit(id: number, pending: Pending): void {
    if (this.#pending.get(id) !== pending) return; // timed out while held
    pending.sequence = ++this.#sequence;
    try {
      pending.transmit(pending.frame);
    } catch (error) {
      this.#take(id);
      pending.reject(error as Error);
    }
  }

  #take(id: number): Pending | undefined {
    const pending = this.#pending.get(id);
    if (pending === undefined) return undefined;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    return pending;
  }
}
