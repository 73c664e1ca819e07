/**
 * QUIC variable-length integers (RFC 9000 §16): the two high bits of the first
 * byte give the length (1, 2, 4 or 8 bytes). Used by HTTP/3 and WebTransport, and
 * exported for application framing. Values are limited to Number.MAX_SAFE_INTEGER
 * (2^53 - 1).
 */
export const VARINT_MAX = 2 ** 62 - 1;

/** Bytes needed to encode `value`. */
export function varintLength(value: number): 1 | 2 | 4 | 8 {
  if (value < 0 || !Number.isSafeInteger(value)) throw new RangeError(`varint out of range: ${value}`);
  if (value < 0x40) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x40000000) return 4;
  return 8;
}

/** Writes `value` at `offset` and returns the offset after it. */
export function writeVarint(target: Uint8Array, offset: number, value: number): number {
  const length = varintLength(value);
  if (offset + length > target.length) throw new RangeError('varint does not fit in target');
  switch (length) {
    case 1:
      target[offset] = value;
      break;
    case 2:
      target[offset] = 0x40 | (value >>> 8);
      target[offset + 1] = value & 0xff;
      break;
    case 4:
      target[offset] = 0x80 | (value >>> 24);
      target[offset + 1] = (value >>> 16) & 0xff;
      target[offset + 2] = (value >>> 8) & 0xff;
      target[offset + 3] = value & 0xff;
      break;
    case 8: {
      const high = Math.floor(value / 2 ** 32);
      const low = value >>> 0;
      target[offset] = 0xc0 | (high >>> 24);
      target[offset + 1] = (high >>> 16) & 0xff;
      target[offset + 2] = (high >>> 8) & 0xff;
      target[offset + 3] = high & 0xff;
      target[offset + 4] = low >>> 24;
      target[offset + 5] = (low >>> 16) & 0xff;
      target[offset + 6] = (low >>> 8) & 0xff;
      target[offset + 7] = low & 0xff;
      break;
    }
  }
  return offset + length;
}

export function encodeVarint(value: number): Uint8Array {
  const out = new Uint8Array(varintLength(value));
  writeVarint(out, 0, value);
  return out;
}

/** A decoded varint and the offset just after it. */
export interface VarintRead {
  readonly value: number;
  readonly next: number;
}

/**
 * Reads a varint at `offset`; returns undefined when the bytes end before it does
 * (the caller waits for more). Values above 2^53 - 1 throw a RangeError: this
 * package never sends them, and a peer that does is misbehaving.
 */
export function readVarint(source: Uint8Array, offset: number): VarintRead | undefined {
  const read = readVarintLossy(source, offset);
  if (read !== undefined && !Number.isSafeInteger(read.value)) throw new RangeError('varint exceeds 2^53 - 1');
  return read;
}

/**
 * Reads a varint without refusing values above 2^53 - 1. HTTP/3 needs this: GREASE
 * frame, stream, setting and capsule types (0x1f * N + 0x21, RFC 9114 §7.2.8) reach
 * 2^62 and browsers send them. Such values come back rounded, still above
 * Number.MAX_SAFE_INTEGER, which is all a caller needs: no type this package handles
 * is that large, and any length that large fails its limit check.
 */
export function readVarintLossy(source: Uint8Array, offset: number): VarintRead | undefined {
  if (offset >= source.length) return undefined;
  const first = source[offset] as number;
  const length = 1 << (first >>> 6);
  if (offset + length > source.length) return undefined;
  let value = first & 0x3f;
  for (let i = 1; i < length; i++) value = value * 256 + (source[offset + i] as number);
  return { value, next: offset + length };
}
