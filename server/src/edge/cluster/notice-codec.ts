import type { DeviceNotice } from '../../core/ports/device-bus.ts';

/**
 * Largest notice on the bus, either way (a claim is about 60 bytes; the frames
 * forwarded are small announcements: a list version, a link request, an
 * expiry list cut at 1000 characters).
 */
export const MAX_NOTICE_BYTES = 8 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A notice on the wire between nodes: small JSON (`{"type":"wake"}`,
 * `{"type":"claim",...}`, a frame's bytes in base64). Undefined: larger than
 * MAX_NOTICE_BYTES, not sent.
 */
export function encodeNotice(notice: DeviceNotice): Uint8Array | undefined {
  const json =
    notice.type === 'frame' || notice.type === 'ephemeral'
      ? { type: notice.type, bytes: Buffer.from(notice.bytes).toString('base64') }
      : notice;
  const bytes = encoder.encode(JSON.stringify(json));
  return bytes.length <= MAX_NOTICE_BYTES ? bytes : undefined;
}

/** The notice in `bytes`, or undefined for anything else (too large, not JSON, unknown type): dropped. */
export function decodeNotice(bytes: Uint8Array): DeviceNotice | undefined {
  if (bytes.length > MAX_NOTICE_BYTES) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const notice = value as { type?: unknown; node?: unknown; since?: unknown; bytes?: unknown };
  if (notice.type === 'wake') return { type: 'wake' };
  if (notice.type === 'removed') return { type: 'removed' };
  if (
    (notice.type === 'frame' || notice.type === 'ephemeral') &&
    typeof notice.bytes === 'string' &&
    /^[A-Za-z0-9+/]*={0,2}$/.test(notice.bytes)
  ) {
    return { type: notice.type, bytes: new Uint8Array(Buffer.from(notice.bytes, 'base64')) };
  }
  if (
    notice.type === 'claim' &&
    typeof notice.node === 'string' &&
    notice.node.length <= 64 &&
    typeof notice.since === 'number' &&
    Number.isSafeInteger(notice.since)
  ) {
    return { type: 'claim', node: notice.node, since: notice.since };
  }
  return undefined;
}
