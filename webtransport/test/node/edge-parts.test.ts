import { describe, expect, it } from 'vitest';
import { H3Error } from '../../src/h3/errors.ts';
import { WaitingStreams } from '../../src/node/waiting-streams.ts';
import { decodeCloseCapsuleValue, encodeCloseCapsuleValue } from '../../src/webtransport/close-capsule.ts';

describe('CLOSE_WEBTRANSPORT_SESSION value', () => {
  it('round-trips code and reason', () => {
    const value = encodeCloseCapsuleValue({ closeCode: 0xdeadbeef, reason: 'bye ✓' });
    expect([...value.subarray(0, 4)]).toEqual([0xde, 0xad, 0xbe, 0xef]);
    expect(decodeCloseCapsuleValue(value, 1024)).toEqual({ closeCode: 0xdeadbeef, reason: 'bye ✓' });
  });

  it('cuts the reason to the limit and refuses a value shorter than the code', () => {
    expect(decodeCloseCapsuleValue(encodeCloseCapsuleValue({ closeCode: 1, reason: 'abcdef' }), 3).reason).toBe('abc');
    expect(() => decodeCloseCapsuleValue(new Uint8Array(3), 1024)).toThrow(H3Error);
  });
});

describe('WaitingStreams', () => {
  const stream = (streamId: number) => ({ streamId, bidirectional: true, data: new Uint8Array(0), fin: false });

  it('holds streams per session up to the limit, and frees room when taken', () => {
    const waiting = new WaitingStreams(2);
    expect(waiting.hold(0, stream(4))).toBe(true);
    expect(waiting.hold(8, stream(12))).toBe(true);
    expect(waiting.hold(0, stream(16))).toBe(false);
    expect(waiting.take(0).map((s) => s.streamId)).toEqual([4]);
    expect(waiting.take(0)).toEqual([]);
    expect(waiting.hold(0, stream(16))).toBe(true);
    expect(waiting.take(8).map((s) => s.streamId)).toEqual([12]);
  });
});
