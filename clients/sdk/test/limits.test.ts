import { describe, expect, it } from 'vitest';
import { clientLimits } from '../src/limits.ts';

describe('clientLimits', () => {
  it('applies overrides and refuses nonsense', () => {
    expect(clientLimits({ requestTimeoutMs: 5 }).requestTimeoutMs).toBe(5);
    expect(() => clientLimits({ requestTimeoutMs: 0 })).toThrow(RangeError);
    expect(() => clientLimits({ maxTextLength: 1.5 })).toThrow(RangeError);
  });
});
