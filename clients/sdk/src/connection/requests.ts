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

interface Pending {
  readonly expect: FrameType;
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
 * The requests in flight, by id: each request gets a fresh id and waits (at most
 * `requestTimeoutMs`) for the frame that carries that id. An `error` frame
 * rejects it with the server's code, an answer of another type with
 * UNEXPECTED_ANSWER. Sans-I/O: the caller sends the frames and hands in what arrives.
 */
export class RequestTable {
  readonly #limits: RequestTableLimits;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;

  constructor(limits: RequestTableLimits) {
    this.#limits = limits;
  }

  /** Requests waiting for their answer. */
  get size(): number {
    return this.#pending.size;
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
      this.#pending.set(id, {
        expect: answerTypeOf(frame.type),
        resolve: resolve as (f: Frame) => void,
        reject,
        timer,
      });
      try {
        transmit({ ...frame, id } as Frame);
      } catch (error) {
        this.#take(id);
        reject(error);
      }
    });
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

  /** Rejects every request in flight with `error` (the transport they were sent on is gone). */
  failAll(error: Error): void {
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.#pending.clear();
  }

  #take(id: number): Pending | undefined {
    const pending = this.#pending.get(id);
    if (pending === undefined) return undefined;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    return pending;
  }
}
