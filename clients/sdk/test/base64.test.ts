import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from '../src/base64.ts';

describe('base64', () => {
  it('matches the platform encoding for every length and content', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        expect(toBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
        expect(fromBase64(toBase64(bytes))).toEqual(bytes);
      }),
    );
    const large = new Uint8Array(100_000).map((_, i) => (i * 7919) & 0xff);
    expect(toBase64(large)).toBe(Buffer.from(large).toString('base64'));
  });
});
