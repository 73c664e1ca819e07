import { describe, expect, it } from 'vitest';
import { KeyedBuckets, TokenBucket } from '../../src/core/limits/token-bucket.ts';

describe('token bucket', () => {
  it('allows a burst, then refuses with the wait until the next token', () => {
    const bucket = new TokenBucket(10, 3, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([0, 0, 0]);
    expect(bucket.take(0)).toBe(100);
    expect(bucket.take(50)).toBe(50);
    expect(bucket.take(100)).toBe(0);
  });

  it('keeps separate buckets per key and forgets full ones', () => {
    const buckets = new KeyedBuckets(1, 1);
    expect(buckets.take('a', 0)).toBe(0);
    expect(buckets.take('a', 0)).toBeGreaterThan(0);
    expect(buckets.take('b', 0)).toBe(0);
    buckets.sweep(10_000);
    expect(buckets.take('a', 10_000)).toBe(0);
  });
});
