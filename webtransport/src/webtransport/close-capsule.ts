/**
 * The value of a CLOSE_WEBTRANSPORT_SESSION capsule (draft-ietf-webtrans-http3-02
 * §5): a 32-bit application error code, then a UTF-8 reason.
 */
import { H3Error } from '../h3/errors.ts';
import type { WebTransportCloseInfo } from './types.ts';

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

export function encodeCloseCapsuleValue(info: WebTransportCloseInfo): Uint8Array {
  const reason = utf8.encode(info.reason);
  const value = new Uint8Array(4 + reason.length);
  new DataView(value.buffer).setUint32(0, info.closeCode);
  value.set(reason, 4);
  return value;
}

/** Reads the code and at most `maxReasonBytes` of reason; a value shorter than the code is H3_MESSAGE_ERROR. */
export function decodeCloseCapsuleValue(value: Uint8Array, maxReasonBytes: number): WebTransportCloseInfo {
  if (value.length < 4) throw new H3Error('H3_MESSAGE_ERROR', 'short CLOSE_WEBTRANSPORT_SESSION');
  const closeCode = new DataView(value.buffer, value.byteOffset).getUint32(0);
  const reason = utf8Decoder.decode(value.subarray(4, 4 + maxReasonBytes));
  return { closeCode, reason };
}
