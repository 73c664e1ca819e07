import { describe, expect, it } from 'vitest';
import { safeVerifier } from '../../src/core/auth/verifier.ts';

describe('signature verifier wrapper', () => {
  it('turns a throwing verifier into a refusal', () => {
    const verify = safeVerifier(() => {
      throw new Error('bad key');
    });
    expect(verify(new Uint8Array(1), new Uint8Array(1), new Uint8Array(64))).toBe(false);
  });
});
