import { describe, expect, it } from 'vitest';
import { FRAME_TYPES, FrameCodec } from '../src/index.ts';
import { FRAME_EXAMPLES } from './frame-examples.ts';
import { frameFromJson, frameToJson } from './frame-json.ts';
import vectors from './vectors/frames.json' with { type: 'json' };

const codec = new FrameCodec();
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('golden frame vectors', () => {
  it('cover every frame type', () => {
    const covered = new Set(vectors.map((vector) => (vector.frame as { type: string }).type));
    expect([...FRAME_TYPES].filter((type) => !covered.has(type))).toEqual([]);
  });

  it('match the examples (regenerate with scripts/gen-frame-vectors.ts after a deliberate change)', () => {
    expect(vectors.map((vector) => vector.frame)).toEqual(FRAME_EXAMPLES.map(frameToJson));
  });

  for (const vector of vectors) {
    const frame = frameFromJson(vector.frame) as Parameters<FrameCodec['encode']>[0];
    it(`${frame.type}: encodes to the pinned bytes and decodes back`, () => {
      expect(hex(codec.encode(frame))).toBe(vector.hex);
      expect(codec.decode(Buffer.from(vector.hex, 'hex'))).toEqual(frame);
    });
  }

  it('agree with MessagePack written by hand', () => {
    // {"type":"ping","nonce":7}: fixmap(2), fixstr "type", fixstr "ping", fixstr "nonce", fixint 7.
    const ping = '82a474797065a470696e67a56e6f6e636507';
    expect(hex(codec.encode({ type: 'ping', nonce: 7 }))).toBe(ping);
    expect(codec.decode(Buffer.from(ping, 'hex'))).toEqual({ type: 'ping', nonce: 7 });
    // Byte fields travel as MessagePack bin (0xc4), never as strings or arrays.
    const ack = codec.encode({ type: 'auth_token', id: 1, token: Uint8Array.of(0xde, 0xad) });
    expect(hex(ack)).toContain('a5746f6b656ec402dead');
  });

  it('decode byte fields to plain Uint8Array copies that do not alias the input', () => {
    const input = Buffer.from(vectors.find((vector) => vector.frame.type === 'publish')?.hex ?? '', 'hex');
    const frame = codec.decode(input);
    if (frame.type !== 'publish') throw new Error('expected a publish frame');
    expect(frame.payload.constructor).toBe(Uint8Array);
    const before = hex(frame.payload);
    input.fill(0);
    expect(hex(frame.payload)).toBe(before);
  });
});
