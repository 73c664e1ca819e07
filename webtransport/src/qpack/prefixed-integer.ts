/**
 * Prefixed integers (RFC 7541 §5.1, used by RFC 9204 §4.1.1): a value that fits
 * in the low `prefixBits` of the first byte is stored there; otherwise the prefix
 * is all ones and the rest follows 7 bits per byte, least significant first.
 */
import { H3Error, type H3ErrorName } from '../h3/errors.ts';

/** Largest value accepted: QPACK never needs more, and JS integers stay exact. */
const MAX_VALUE = 2 ** 32 - 1;

export interface IntegerRead {
  readonly value: number;
  readonly next: number;
}

/**
 * Reads a prefixed integer at `offset`, or undefined when the bytes end before it
 * does (on an instruction stream the rest may still arrive). A value above 2^32 - 1
 * is the connection error `error`.
 */
export function readPrefixedIntegerIfComplete(
  source: Uint8Array,
  offset: number,
  prefixBits: number,
  error: H3ErrorName = 'QPACK_DECOMPRESSION_FAILED',
): IntegerRead | undefined {
  if (offset >= source.length) return undefined;
  const mask = (1 << prefixBits) - 1;
  let value = (source[offset] as number) & mask;
  let next = offset + 1;
  if (value < mask) return { value, next };
  for (let shift = 0; ; shift += 7) {
    if (next >= source.length) return undefined;
    const byte = source[next++] as number;
    value += (byte & 0x7f) * 2 ** shift;
    if (value > MAX_VALUE) throw new H3Error(error, 'integer too large');
    if ((byte & 0x80) === 0) return { value, next };
  }
}

/** Reads a prefixed integer at `offset` of a complete block; truncation or overflow is QPACK_DECOMPRESSION_FAILED. */
export function readPrefixedInteger(source: Uint8Array, offset: number, prefixBits: number): IntegerRead {
  const read = readPrefixedIntegerIfComplete(source, offset, prefixBits);
  if (read === undefined) throw new H3Error('QPACK_DECOMPRESSION_FAILED', 'truncated integer');
  return read;
}

/** Appends a prefixed integer; `flags` are the bits above the prefix in the first byte. */
export function writePrefixedInteger(out: number[], value: number, prefixBits: number, flags: number): void {
  const mask = (1 << prefixBits) - 1;
  if (value < mask) {
    out.push(flags | value);
    return;
  }
  out.push(flags | mask);
  let rest = value - mask;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
}
