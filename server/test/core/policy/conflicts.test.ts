import { describe, expect, it } from 'vitest';
import { PulseError } from '../../../src/core/errors.ts';
import { DECISION_ATTEMPTS, retryOnConflict } from '../../../src/core/policy/conflicts.ts';
import { StoreConflict } from '../../../src/core/store.ts';

describe('deciding again on a conflict', () => {
  it('reads and decides again while the store reports conflicts, up to DECISION_ATTEMPTS', () => {
    let calls = 0;
    expect(
      retryOnConflict(() => {
        if (++calls < DECISION_ATTEMPTS) throw new StoreConflict('changed');
        return 'written';
      }),
    ).toBe('written');
    expect(calls).toBe(DECISION_ATTEMPTS);
    calls = 0;
    expect(() =>
      retryOnConflict(() => {
        calls++;
        throw new StoreConflict('always');
      }),
    ).toThrow(StoreConflict);
    expect(calls).toBe(DECISION_ATTEMPTS);
  });

  it('passes refusals and faults through at once', () => {
    let calls = 0;
    expect(() =>
      retryOnConflict(() => {
        calls++;
        throw new PulseError('FORBIDDEN', 'no');
      }),
    ).toThrow(PulseError);
    expect(calls).toBe(1);
  });
});
