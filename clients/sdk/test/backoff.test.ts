import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../src/connection/backoff.ts';

describe('backoffDelay', () => {
  it('stays within [0, min(max, base * 2^attempt)) for any attempt and random value', () => {
    fc.assert(
      fc.property(fc.nat(100), fc.double({ min: 0, max: 0.999999, noNaN: true }), (attempt, r) => {
        const delay = backoffDelay(attempt, 250, 15_000, () => r);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(Math.min(15_000, 250 * 2 ** attempt));
      }),
    );
  });

  it('grows with the attempt number', () => {
    expect(backoffDelay(0, 250, 15_000, () => 0.999)).toBe(249);
    expect(backoffDelay(3, 250, 15_000, () => 0.999)).toBe(1998);
    expect(backoffDelay(20, 250, 15_000, () => 0.999)).toBe(14_985);
  });
});
