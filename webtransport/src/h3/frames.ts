/**
 * HTTP/3 frame, stream and setting identifiers (RFC 9114 §6.2, §7.2, §7.2.4.1,
 * §11.2), the extensions WebTransport needs (RFC 9220, RFC 9297,
 * draft-ietf-webtrans-http3), and frame encoders.
 */
import { varintLength, writeVarint } from '../varint.ts';

export const FRAME = {
  DATA: 0x00,
  HEADERS: 0x01,
  CANCEL_PUSH: 0x03,
  SETTINGS: 0x04,
  PUSH_PROMISE: 0x05,
  GOAWAY: 0x07,
  MAX_PUSH_ID: 0x0d,
  /** draft-ietf-webtrans-http3 §4.2: first varint of a WebTransport bidirectional stream. */
  WEBTRANSPORT_STREAM: 0x41,
} as const;

/** Frame types reserved because they were HTTP/2's (RFC 9114 §7.2.8): receiving one is H3_FRAME_UNEXPECTED. */
export const HTTP2_RESERVED_FRAMES: ReadonlySet<number> = new Set([0x02, 0x06, 0x08, 0x09]);

export const UNI_STREAM = {
  CONTROL: 0x00,
  PUSH: 0x01,
  QPACK_ENCODER: 0x02,
  QPACK_DECODER: 0x03,
  /** draft-ietf-webtrans-http3 §4.1. */
  WEBTRANSPORT: 0x54,
} as const;

export const SETTING = {
  QPACK_MAX_TABLE_CAPACITY: 0x01,
  MAX_FIELD_SECTION_SIZE: 0x06,
  QPACK_BLOCKED_STREAMS: 0x07,
  /** RFC 9220 §3. */
  ENABLE_CONNECT_PROTOCOL: 0x08,
  /** RFC 9297 §5.1. */
  H3_DATAGRAM: 0x33,
  /** The pre-RFC HTTP datagram codepoint some peers still send (draft-ietf-masque-h3-datagram-04). */
  H3_DATAGRAM_DRAFT04: 0xffd277,
  /** draft-ietf-webtrans-http3-02 §3.1: what Chromium requires. */
  ENABLE_WEBTRANSPORT: 0x2b603742,
  /** Current drafts: maximum concurrent sessions (Firefox and Safari move to it). */
  WT_MAX_SESSIONS: 0x14e9cd29,
} as const;

/** HTTP/2 settings that RFC 9114 §7.2.4.1 forbids: receiving one is H3_SETTINGS_ERROR. */
export const HTTP2_RESERVED_SETTINGS: ReadonlySet<number> = new Set([0x02, 0x03, 0x04, 0x05]);

export const CAPSULE = {
  /** RFC 9297 §3.5. */
  DATAGRAM: 0x00,
  /** draft-ietf-webtrans-http3 §5: error code (32 bits) then a UTF-8 reason. */
  CLOSE_WEBTRANSPORT_SESSION: 0x2843,
  DRAIN_WEBTRANSPORT_SESSION: 0x78ae,
} as const;

/** Concatenates varints and byte strings into one buffer. */
export function concatWire(parts: readonly (number | Uint8Array)[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += typeof part === 'number' ? varintLength(part) : part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    if (typeof part === 'number') {
      offset = writeVarint(out, offset, part);
    } else {
      out.set(part, offset);
      offset += part.length;
    }
  }
  return out;
}

/** type, length, payload (RFC 9114 §7.1). Capsules share the layout (RFC 9297 §3.2). */
export function encodeFrame(type: number, payload: Uint8Array): Uint8Array {
  return concatWire([type, payload.length, payload]);
}

export function encodeSettings(settings: ReadonlyMap<number, number>): Uint8Array {
  const parts: number[] = [];
  for (const [id, value] of settings) parts.push(id, value);
  return encodeFrame(FRAME.SETTINGS, concatWire(parts));
}

export function encodeGoaway(id: number): Uint8Array {
  return encodeFrame(FRAME.GOAWAY, concatWire([id]));
}

/** A GREASE identifier 0x1f * N + 0x21 (RFC 9114 §7.2.8, §7.2.4.1, §6.2.3). */
export function greaseId(n: number): number {
  return 0x1f * n + 0x21;
}
