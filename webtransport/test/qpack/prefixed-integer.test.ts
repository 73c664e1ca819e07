/** Prefixed integers (RFC 7541 §5.1, used by RFC 9204 §4.1.1). */
import { describe, expect, it } from 'vitest';
import {
  readPrefixedInteger,
  readPrefixedIntegerIfComplete,
  writePrefixedInteger,
} from '../../src/qpack/prefixed-integer.ts';
import { expectH3Error } from '../support/expect-h3-error.ts';

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));

describe('prefixed integers (RFC 7541 §5.1, C.1)', () => {
  it('encodes 10, 1337 and 42 like the RFC examples', () => {
    const out: number[] = [];
    writePrefixedInteger(out, 10, 5, 0);
    writePrefixedInteger(out, 1337, 5, 0);
    writePrefixedInteger(out, 42, 8, 0);
    expect(out).toEqual([0x0a, 0x1f, 0x9a, 0x0a, 0x2a]);
    const bytes = Uint8Array.from(out);
    expect(readPrefixedInteger(bytes, 0, 5)).toEqual({ value: 10, next: 1 });
    expect(readPrefixedInteger(bytes, 1, 5)).toEqual({ value: 1337, next: 4 });
    expect(readPrefixedInteger(bytes, 4, 8)).toEqual({ value: 42, next: 5 });
  });

  it('rejects truncated and oversized integers', () => {
    expectH3Error(() => readPrefixedInteger(hex('1f 9a'), 0, 5), 'QPACK_DECOMPRESSION_FAILED');
    expectH3Error(() => readPrefixedInteger(hex('1f ff ff ff ff ff 01'), 0, 5), 'QPACK_DECOMPRESSION_FAILED');
  });

  it('waits for the rest of an integer cut off on an instruction stream, and names the error of overflow', () => {
    expect(readPrefixedIntegerIfComplete(hex('1f 9a'), 0, 5)).toBeUndefined();
    expect(readPrefixedIntegerIfComplete(new Uint8Array(0), 0, 5)).toBeUndefined();
    expect(readPrefixedIntegerIfComplete(hex('1f 9a 0a'), 0, 5)).toEqual({ value: 1337, next: 3 });
    expectH3Error(
      () => readPrefixedIntegerIfComplete(hex('1f ff ff ff ff ff 01'), 0, 5, 'QPACK_ENCODER_STREAM_ERROR'),
      'QPACK_ENCODER_STREAM_ERROR',
    );
  });
});
