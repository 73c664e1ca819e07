/**
 * WebTransport application error codes ↔ HTTP/3 error codes
 * (draft-ietf-webtrans-http3 §4.4): 32-bit application codes are mapped into
 * 0x52e4a40fa8db..0x52e5ac983162, skipping the reserved GREASE codepoints
 * (0x1f * N + 0x21), hence the n / 0x1e term.
 */
const FIRST = 0x52e4a40fa8db;
const LAST = 0x52e5ac983162;

export function webTransportCodeToHttp3(code: number): number {
  if (!Number.isInteger(code) || code < 0 || code > 0xffffffff)
    throw new RangeError(`invalid stream error code ${code}`);
  return FIRST + code + Math.floor(code / 0x1e);
}

/** The application code carried by an HTTP/3 error code, or undefined when it is not one (or is GREASE). */
export function http3CodeToWebTransport(http3Code: number): number | undefined {
  if (http3Code < FIRST || http3Code > LAST) return undefined;
  const shifted = http3Code - FIRST;
  if ((http3Code - 0x21) % 0x1f === 0) return undefined;
  return shifted - Math.floor(shifted / 0x1f);
}
