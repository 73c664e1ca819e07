/** What a session does with one frame its rate limits refused. */
export type RefusalAction = 'answer' | 'drop' | 'close';

/**
 * How a connection's rate-limit refusals are answered (README "Limits",
 * PROTOCOL.md `RATE_LIMITED`). A flood must not buy one `error` frame per
 * frame it sends, nor stay open because the bucket lets a frame through now
 * and then:
 * - one `error RATE_LIMITED` per refusal burst: after an answer, frames refused
 *   before its `retryAfterMs` has passed are dropped (and counted by the caller);
 * - more than `limit` refusals within a fixed window of `windowMs` close the
 *   connection, whatever was accepted in between.
 * Time is passed in (sans-I/O).
 */
export class RateRefusals {
  readonly #limit: number;
  readonly #windowMs: number;
  #windowStart = Number.NEGATIVE_INFINITY;
  #inWindow = 0;
  /** Until when refusals go unanswered: the retry time of the last answer. */
  #quietUntil = Number.NEGATIVE_INFINITY;

  constructor(limit: number, windowMs: number) {
    this.#limit = limit;
    this.#windowMs = windowMs;
  }

  /** Records one refusal at `now`, whose retry hint is `retryAfterMs`, and says what to do with it. */
  refuse(now: number, retryAfterMs: number): RefusalAction {
    if (now - this.#windowStart >= this.#windowMs) {
      this.#windowStart = now;
      this.#inWindow = 0;
    }
    if (++this.#inWindow > this.#limit) return 'close';
    if (now < this.#quietUntil) return 'drop';
    this.#quietUntil = now + retryAfterMs;
    return 'answer';
  }
}
