/** SETTINGS frame payload parsing and validation (RFC 9114 §7.2.4). */

import { readVarintLossy } from '../varint.ts';
import { H3Error } from './errors.ts';
import { HTTP2_RESERVED_SETTINGS, SETTING } from './frames.ts';

/** Settings whose only legal values are 0 and 1 (RFC 9220 §3, RFC 9297 §5.1). */
const BOOLEAN_SETTINGS: ReadonlySet<number> = new Set([
  SETTING.ENABLE_CONNECT_PROTOCOL,
  SETTING.H3_DATAGRAM,
  SETTING.ENABLE_WEBTRANSPORT,
]);

export function decodeSettings(payload: Uint8Array): Map<number, number> {
  const settings = new Map<number, number>();
  let offset = 0;
  while (offset < payload.length) {
    const id = readVarintLossy(payload, offset);
    const value = id === undefined ? undefined : readVarintLossy(payload, id.next);
    if (id === undefined || value === undefined) throw new H3Error('H3_FRAME_ERROR', 'truncated SETTINGS frame');
    offset = value.next;
    // GREASE ids beyond 2^53 are unknown by definition; skipping them avoids false duplicates after rounding.
    if (!Number.isSafeInteger(id.value)) continue;
    if (HTTP2_RESERVED_SETTINGS.has(id.value)) {
      throw new H3Error('H3_SETTINGS_ERROR', `reserved HTTP/2 setting 0x${id.value.toString(16)}`);
    }
    if (settings.has(id.value)) throw new H3Error('H3_SETTINGS_ERROR', `duplicate setting 0x${id.value.toString(16)}`);
    if (BOOLEAN_SETTINGS.has(id.value) && value.value > 1) {
      throw new H3Error('H3_SETTINGS_ERROR', `setting 0x${id.value.toString(16)} must be 0 or 1`);
    }
    settings.set(id.value, value.value);
  }
  return settings;
}

/** What the peer's settings allow, read once when they arrive. */
export interface PeerCapabilities {
  readonly webTransport: boolean;
  readonly datagrams: boolean;
  readonly extendedConnect: boolean;
  readonly maxFieldSectionSize: number;
}

export function peerCapabilities(settings: ReadonlyMap<number, number>): PeerCapabilities {
  return {
    webTransport: settings.get(SETTING.ENABLE_WEBTRANSPORT) === 1 || (settings.get(SETTING.WT_MAX_SESSIONS) ?? 0) > 0,
    datagrams: settings.get(SETTING.H3_DATAGRAM) === 1 || settings.get(SETTING.H3_DATAGRAM_DRAFT04) === 1,
    extendedConnect: settings.get(SETTING.ENABLE_CONNECT_PROTOCOL) === 1,
    maxFieldSectionSize: settings.get(SETTING.MAX_FIELD_SECTION_SIZE) ?? Number.POSITIVE_INFINITY,
  };
}
