/** WebTransport application error codes in the HTTP/3 code space (draft-ietf-webtrans-http3 §4.4). */
import { describe, expect, it } from 'vitest';
import { H3_ERROR } from '../../src/h3/errors.ts';
import { http3CodeToWebTransport, webTransportCodeToHttp3 } from '../../src/webtransport/error-codes.ts';

describe('stream error codes', () => {
  it('maps WebTransport stream error codes around GREASE codepoints', () => {
    expect(webTransportCodeToHttp3(0)).toBe(0x52e4a40fa8db);
    expect(webTransportCodeToHttp3(0x1d)).toBe(0x52e4a40fa8db + 0x1d);
    expect(webTransportCodeToHttp3(0x1e)).toBe(0x52e4a40fa8db + 0x1f);
    expect(webTransportCodeToHttp3(0xffffffff)).toBe(0x52e5ac983162);
    for (const code of [0, 1, 0x1d, 0x1e, 0x1f, 1234, 0xffffffff]) {
      expect(http3CodeToWebTransport(webTransportCodeToHttp3(code))).toBe(code);
    }
    expect(http3CodeToWebTransport(0x52e4a40fa8db + 0x1e)).toBeUndefined(); // a GREASE codepoint
    expect(http3CodeToWebTransport(H3_ERROR.H3_NO_ERROR)).toBeUndefined();
  });
});
