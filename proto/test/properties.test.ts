import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PROTO_LIMITS, FrameCodec, frameSchema } from '../src/index.ts';
import { arbitraryFrame } from './arbitrary-frame.ts';

const codec = new FrameCodec();
const frames = arbitraryFrame(frameSchema(DEFAULT_PROTO_LIMITS));

describe('frame codec properties', () => {
  it('decode(encode(frame)) equals frame for generated frames of every type', () => {
    fc.assert(
      fc.property(frames, (frame) => {
        expect(codec.decode(codec.encode(frame))).toEqual(frame);
      }),
      { numRuns: 2000 },
    );
  });

  it('generated frames reach every frame type', () => {
    const seen = new Set(fc.sample(frames, 3000).map((frame) => frame.type));
    expect(seen.size).toBe(frameSchema(DEFAULT_PROTO_LIMITS).options.length);
  });

  it('encoding is deterministic', () => {
    fc.assert(
      fc.property(frames, (frame) => {
        expect(codec.encode(frame)).toEqual(codec.encode(structuredClone(frame)));
      }),
      { numRuns: 300 },
    );
  });
});
