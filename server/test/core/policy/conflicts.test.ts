import { describe, expect, it } from 'vitest';
import { PulseError } from '../../../src/core/errors.ts';
import { DECISION_ATTEMPTS, retryOnConflict } from '../../../src/core/policy/conflicts.ts';
import { StoreConflict } from '../../../src/core/store.ts';

describe('deciding again on a conflict', () => {
  it('reads and decides again while the store reports conflicts, up to DECISION_ATTEMPTS', async () => {
    let calls = 0;
    await expect(
      retryOnConflict(async () => {
        if (++calls < DECISION_ATTEMPTS) throw new StoreConflict('changed');
        return 'written';
      }),
    ).resolves.toBe('written');
    expect(calls).toBe(DECISION_ATTEMPTS);
    calls = 0;
    await expect(
      retryOnConflict(async () => {
        calls++;
        throw new StoreConflict('always');
      }),
    ).rejects.toThrow(StoreConflict);
    expect(calls).toBe(DECISION_ATTEMPTS);
  });

  it('passes refusals and faults through at once', async () => {
    let calls = 0;
    await expect(
      retryOnConflict(async () => {
        calls++;
        throw new PulseError('FORBIDDEN', 'no');
      }),
    ).rejects.toThrow(PulseError);
    expect(calls).toBe(1);
  });
});
