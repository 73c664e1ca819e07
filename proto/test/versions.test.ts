import { describe, expect, it } from 'vitest';
import { negotiateVersion, ProtoError, protoLimits } from '../src/index.ts';

describe('version negotiation', () => {
  it('picks the highest version both sides speak', () => {
    expect(negotiateVersion([1, 2, 3], [1, 2])).toBe(2);
    expect(negotiateVersion([3, 1], [1, 3, 4])).toBe(3);
    expect(negotiateVersion([1, 2])).toBe(2);
  });

  it('no longer speaks version 1, whose device_link let a token alone link a device', () => {
    expect(() => negotiateVersion([1])).toThrow(/offered \[1\], supported \[2\]/);
  });

  it('fails with PROTO_NO_COMMON_VERSION when there is none', () => {
    expect(() => negotiateVersion([7, 8], [1, 2])).toThrow(ProtoError);
    try {
      negotiateVersion([7, 8], [1, 2]);
    } catch (error) {
      expect(ProtoError.is(error, 'PROTO_NO_COMMON_VERSION')).toBe(true);
      expect((error as Error).message).toContain('offered [7, 8]');
    }
  });
});

describe('limits', () => {
  it('accept overrides and refuse nonsense', () => {
    expect(protoLimits({ maxDepth: 4 }).maxDepth).toBe(4);
    expect(() => protoLimits({ maxFrameBytes: 0 })).toThrow(/maxFrameBytes/);
    expect(() => protoLimits({ maxFrameBytes: 10, maxPayloadBytes: 20 })).toThrow(/maxPayloadBytes/);
  });
});
