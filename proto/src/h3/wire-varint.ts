/**
 * QUIC varints as HTTP/3 meets them (RFC 9000 §16). Unlike ../varint.ts this
 * never throws on values above 2^53: GREASE frame, stream, setting and capsule
 * types (0x1f * N + 0x21, RFC 9114 §7.2.8) reach 2^62, and browsers send them.
 * Such values come back rounded, still above Number.MAX_SAFE_INTEGER, which is
 * all a caller needs: no type Pulse handles is that large, and any length that
 * large fails its limit check.
 */
export interface WireVarint {
  readonly value: number;
  readonly next: number;
}

export function readWireVarint(source: Uint8Array, offset: number): WireVarint | undefined {
  if (offset >= source.length) return undefined;
  const first = source[offset] as number;
  const length = 1 << (first >>> 6);
  if (offset + length > source.length) return undefined;
  let value = first & 0x3f;
  for (let i = 1; i < length; i++) value = value * 256 + (source[offset + i] as number);
  return { value, next: offset + length };
}
