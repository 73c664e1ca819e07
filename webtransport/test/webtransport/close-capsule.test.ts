/** The CLOSE_WEBTRANSPORT_SESSION capsule's value (draft-ietf-webtrans-http3 §5): a 32-bit code, then a UTF-8 reason. */
import { describe, expect, it } from 'vitest';
import { H3Error } from '../../src/h3/errors.ts';
import { decodeCloseCapsuleValue, encodeCloseCapsuleValue } from '../../src/webtransport/close-capsule.ts';

describe('CLOSE_WEBTRANSPORT_SESSION value', () => {
  it('round-trips code and reason', () => {
    const value = encodeCloseCapsuleValue({ closeCode: 0xdeadbeef, reason: 'bye ✓' });
    expect([...value.subarray(0, 4)]).toEqual([0xde, 0xad, 0xbe, 0xef]);
    expect(decodeCloseCapsuleValue(value, 1024)).toEqual({ closeCode: 0xdeadbeef, reason: 'bye ✓' });
  });

  it('cuts the reason to the limit and refuses a value shorter than the code', () => {
    expect(decodeCloseCapsuleValue(encodeCloseCapsuleValue({ closeCode: 1, reason: 'abcdef' }), 3).reason).toBe('abc');
    expect(() => decodeCloseCapsuleValue(new Uint8Array(3), 1024)).toThrow(H3Error);
  });
});
