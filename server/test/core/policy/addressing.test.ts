import { describe, expect, it } from 'vitest';
import { PulseError } from '../../../src/core/errors.ts';
import { checkAddressing } from '../../../src/core/policy/addressing.ts';

const codeOf = (fn: () => void) => {
  try {
    fn();
    return 'ok';
  } catch (error) {
    if (error instanceof PulseError) return error.code;
    throw error;
  }
};
const to = (...deviceIds: number[]) => deviceIds.map((deviceId) => ({ deviceId }));
const alice1 = { account: 'alice', deviceId: 1 };

describe('addressing rule (no store)', () => {
  it('accepts exactly every device of the recipient, in any order', () => {
    expect(codeOf(() => checkAddressing(alice1, 'bob', [1, 2, 5], to(5, 1, 2)))).toBe('ok');
    expect(codeOf(() => checkAddressing(alice1, 'bob', [1, 2, 5], to(1, 2)))).toBe('DEVICES_MISMATCH');
    expect(codeOf(() => checkAddressing(alice1, 'bob', [1, 2, 5], to(1, 2, 5, 6)))).toBe('DEVICES_MISMATCH');
    expect(codeOf(() => checkAddressing(alice1, 'bob', [1, 2], to(1, 1)))).toBe('DEVICES_MISMATCH');
  });

  it('leaves the sending device out on its own account; nobody to address is NOT_FOUND', () => {
    expect(codeOf(() => checkAddressing(alice1, 'alice', [1, 2], to(2)))).toBe('ok');
    expect(codeOf(() => checkAddressing(alice1, 'alice', [1, 2], to(1, 2)))).toBe('DEVICES_MISMATCH');
    expect(codeOf(() => checkAddressing(alice1, 'alice', [1], to(1)))).toBe('NOT_FOUND');
    expect(codeOf(() => checkAddressing(alice1, 'carol', [], to(1)))).toBe('NOT_FOUND');
  });

  it('names the devices expected in its message', () => {
    expect(() => checkAddressing(alice1, 'bob', [1, 3], to(1))).toThrow(
      'envelopes must address exactly the devices [1, 3] of bob',
    );
  });
});
