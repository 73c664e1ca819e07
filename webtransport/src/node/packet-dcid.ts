/**
 * The destination connection id of a QUIC packet, read without quiche: the
 * server routes every packet by it, and `Header.fromSlice` through the napi
 * binding (an object and two byte arrays per call) cost several microseconds
 * per packet. Only the invariant fields are read (RFC 8999 §5): a long header
 * carries its DCID length (byte 5), a short header carries our own fixed-length
 * id right after the first byte.
 */

/** Byte range of the DCID inside `packet`, or undefined when the packet is too short to hold one. */
export function destinationConnectionIdRange(
  packet: Uint8Array,
  shortHeaderIdLength: number,
): { start: number; end: number } | undefined {
  if (packet.length === 0) return undefined;
  const first = packet[0] as number;
  if ((first & 0x80) === 0) {
    // Short header (RFC 9000 §17.3): 1 byte, then the DCID whose length only the receiver knows.
    const end = 1 + shortHeaderIdLength;
    return packet.length >= end ? { start: 1, end } : undefined;
  }
  // Long header (RFC 9000 §17.2): 1 byte, 4-byte version, DCID length (≤ 255 by RFC 8999), DCID.
  if (packet.length < 6) return undefined;
  const length = packet[5] as number;
  const end = 6 + length;
  return packet.length >= end ? { start: 6, end } : undefined;
}
