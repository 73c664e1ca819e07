import { describe, expect, it } from 'vitest';
import { encodeVarint, readVarint, varintLength } from '../src/index.ts';

// RFC 9000 Appendix A.1 sample encodings.
// The 8-byte sample (c2197c5eff14e88c = 151,288,809,941,952,652) exceeds 2^53 and is tested on its own.
const TOO_LARGE_SAMPLE = 'c2197c5eff14e88c';
const RFC9000_SAMPLES: [string, number][] = [
  ['9d7f3e7d', 494_878_333],
  ['7bbd', 15_293],
  ['25', 37],
  ['4025', 37], // the same value in a longer encoding is valid
];

describe('QUIC varints (RFC 9000 §16)', () => {
  it('decodes the RFC 9000 Appendix A.1 samples', () => {
    for (const [hex, value] of RFC9000_SAMPLES) {
      expect(readVarint(Buffer.from(hex, 'hex'), 0)).toEqual({ value, next: hex.length / 2 });
    }
  });

  it('refuses values above 2^53 - 1 rather than rounding them', () => {
    expect(() => readVarint(Buffer.from(TOO_LARGE_SAMPLE, 'hex'), 0)).toThrow(RangeError);
  });

  it('encodes in the shortest form and round-trips at every length boundary', () => {
    for (const value of [0, 63, 64, 16_383, 16_384, 1_073_741_823, 1_073_741_824, Number.MAX_SAFE_INTEGER]) {
      const bytes = encodeVarint(value);
      expect(bytes.length).toBe(varintLength(value));
      expect(readVarint(bytes, 0)).toEqual({ value, next: bytes.length });
    }
    expect(Buffer.from(encodeVarint(15_293)).toString('hex')).toBe('7bbd');
    expect(Buffer.from(encodeVarint(494_878_333)).toString('hex')).toBe('9d7f3e7d');
  });

  it('asks for more bytes when a varint is cut off', () => {
    expect(readVarint(Buffer.from('9d7f3e', 'hex'), 0)).toBeUndefined();
    expect(readVarint(new Uint8Array(0), 0)).toBeUndefined();
  });

  it('refuses negative and non-integer values', () => {
    expect(() => encodeVarint(-1)).toThrow(RangeError);
    expect(() => encodeVarint(1.5)).toThrow(RangeError);
  });
});
