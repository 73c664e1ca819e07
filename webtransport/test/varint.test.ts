import { describe, expect, it } from 'vitest';
import { encodeVarint, readVarint, readVarintLossy } from '../src/varint.ts';

// RFC 9000 Appendix A.1: the four sample encodings, one of each length.
const RFC9000_SAMPLES: [hex: string, value: bigint][] = [
  ['c2197c5eff14e88c', 151_288_809_941_952_652n],
  ['9d7f3e7d', 494_878_333n],
  ['7bbd', 15_293n],
  ['25', 37n],
];

describe('HTTP/3 varints (RFC 9000 §16, read as RFC 9114 §7.2.8 GREASE needs)', () => {
  it('reads every RFC 9000 sample lossily: exact up to 2^53 - 1, rounded but still above it beyond', () => {
    for (const [hex, value] of RFC9000_SAMPLES) {
      expect(readVarintLossy(Buffer.from(hex, 'hex'), 0)).toEqual({ value: Number(value), next: hex.length / 2 });
    }
    expect(readVarintLossy(Buffer.from('c2197c5eff14e88c', 'hex'), 0)?.value).toBeGreaterThan(Number.MAX_SAFE_INTEGER);
  });

  it('the strict reader refuses what the lossy one rounds', () => {
    expect(() => readVarint(Buffer.from('c2197c5eff14e88c', 'hex'), 0)).toThrow(RangeError);
    expect(readVarint(encodeVarint(Number.MAX_SAFE_INTEGER), 0)?.value).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('asks for more bytes when a varint is cut off, at any offset', () => {
    expect(readVarintLossy(Buffer.from('009d7f3e', 'hex'), 1)).toBeUndefined();
    expect(readVarintLossy(new Uint8Array(2), 2)).toBeUndefined();
  });
});
