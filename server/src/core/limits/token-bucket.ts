/**
 * A token bucket (time passed in, no timers): `capacity` tokens, refilled at
 * `ratePerSecond`. `take()` answers 0 when allowed, else the milliseconds until
 * one token is available (the `retryAfterMs` clients are told).
 */
export class TokenBucket {
  readonly #capacity: number;
  readonly #perMs: number;
  #tokens: number;
  #updatedAt: number;

  constructor(ratePerSecond: number, capacity: number, now: number) {
    this.#capacity = capacity;
    this.#perMs = ratePerSecond / 1000;
    this.#tokens = capacity;
    this.#updatedAt = now;
  }

  take(now: number, cost = 1): number {
    const elapsed = Math.max(0, now - this.#updatedAt);
    this.#tokens = Math.min(this.#capacity, this.#tokens + elapsed * this.#perMs);
    this.#updatedAt = now;
    if (this.#tokens >= cost) {
      this.#tokens -= cost;
      return 0;
    }
    return Math.max(1, Math.ceil((cost - this.#tokens) / this.#perMs));
  }

  /** True when the bucket is full again (the key holding it can be forgotten). */
  isIdle(now: number): boolean {
    return this.#tokens + Math.max(0, now - this.#updatedAt) * this.#perMs >= this.#capacity;
  }
}

/** Token buckets by key (IP address, account), forgetting full ones now and then. */
export class KeyedBuckets {
  readonly #ratePerSecond: number;
  readonly #capacity: number;
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(ratePerSecond: number, capacity: number) {
    this.#ratePerSecond = ratePerSecond;
    this.#capacity = capacity;
  }

  /** Takes `cost` tokens from `key`'s bucket: 0 when allowed, else the milliseconds to wait. */
  take(key: string, now: number, cost = 1): number {
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size > 10_000) this.sweep(now);
      bucket = new TokenBucket(this.#ratePerSecond, this.#capacity, now);
      this.#buckets.set(key, bucket);
    }
    return bucket.take(now, cost);
  }

  sweep(now: number): void {
    for (const [key, bucket] of this.#buckets) if (bucket.isIdle(now)) this.#buckets.delete(key);
  }
}
