/** HTTP/3 frame encoding (RFC 9114 §7.1, §7.2.4) and GREASE identifiers (§7.2.8). */
import { describe, expect, it } from 'vitest';
import { encodeFrame, encodeGoaway, encodeSettings, FRAME, greaseId, SETTING } from '../../src/h3/frames.ts';

describe('frames', () => {
  it('encodes frames as type, length, payload', () => {
    expect(encodeFrame(FRAME.DATA, Uint8Array.from([1, 2, 3]))).toEqual(Uint8Array.from([0, 3, 1, 2, 3]));
    expect(encodeSettings(new Map([[SETTING.H3_DATAGRAM, 1]]))).toEqual(Uint8Array.from([0x04, 0x02, 0x33, 0x01]));
    expect(encodeSettings(new Map([[SETTING.ENABLE_WEBTRANSPORT, 1]]))).toEqual(
      Uint8Array.from([0x04, 0x05, 0xab, 0x60, 0x37, 0x42, 0x01]),
    );
    expect(encodeGoaway(64)).toEqual(Uint8Array.from([0x07, 0x02, 0x40, 0x40]));
  });

  it('computes GREASE identifiers 0x1f * N + 0x21', () => {
    expect(greaseId(0)).toBe(0x21);
    expect(greaseId(1)).toBe(0x40);
  });
});
