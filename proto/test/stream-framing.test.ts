import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PROTO_LIMITS,
  FrameCodec,
  frameSchema,
  ProtoError,
  prefixLength,
  StreamFrameDecoder,
} from '../src/index.ts';
import { arbitraryFrame } from './arbitrary-frame.ts';

const codec = new FrameCodec();
const frames = fc.array(arbitraryFrame(frameSchema(DEFAULT_PROTO_LIMITS)), { minLength: 1, maxLength: 8 });

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

describe('stream framing', () => {
  it('prefixes each frame with its length as a QUIC varint', () => {
    expect([...prefixLength(Uint8Array.of(1, 2, 3))]).toEqual([3, 1, 2, 3]);
    expect([...prefixLength(new Uint8Array(64)).subarray(0, 2)]).toEqual([0x40, 64]);
  });

  it('returns the same frames for any split of the stream, including one byte at a time', () => {
    fc.assert(
      fc.property(frames, fc.array(fc.nat(), { maxLength: 10 }), (sent, cuts) => {
        const stream = concat(sent.map((frame) => prefixLength(codec.encode(frame))));
        const bounds = [...new Set(cuts.map((cut) => cut % (stream.length + 1)))].sort((a, b) => a - b);
        const decoder = new StreamFrameDecoder(DEFAULT_PROTO_LIMITS.maxFrameBytes);
        const received: unknown[] = [];
        let start = 0;
        for (const end of [...bounds, stream.length]) {
          for (const body of decoder.push(stream.subarray(start, end))) received.push(codec.decode(body));
          start = end;
        }
        decoder.end();
        expect(received).toEqual(sent);

        const byteByByte = new StreamFrameDecoder(DEFAULT_PROTO_LIMITS.maxFrameBytes);
        const single: unknown[] = [];
        for (const byte of stream)
          for (const body of byteByByte.push(Uint8Array.of(byte))) single.push(codec.decode(body));
        expect(single).toEqual(sent);
        expect(byteByByte.buffered).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses an oversized length as soon as the prefix arrives, before buffering the body', () => {
    const decoder = new StreamFrameDecoder(1024);
    // 0x80 prefix: 4-byte varint announcing 2^30 - 1 bytes.
    expect(() => decoder.push(Uint8Array.of(0xbf, 0xff, 0xff, 0xff))).toThrow(
      expect.objectContaining({ code: 'PROTO_FRAME_TOO_LARGE' }),
    );
    const partial = new StreamFrameDecoder(1024);
    expect(partial.push(Uint8Array.of(0x44))).toEqual([]); // first byte of a 2-byte prefix: wait
    expect(() => partial.push(Uint8Array.of(0x01))).toThrow(ProtoError); // 0x401 = 1025 > 1024
  });

  it('reports a stream that ends inside a frame', () => {
    const decoder = new StreamFrameDecoder(1024);
    decoder.push(Uint8Array.of(5, 1, 2));
    expect(() => decoder.end()).toThrow(expect.objectContaining({ code: 'PROTO_TRUNCATED' }));
  });

  it('returned frames are copies: later pushes do not change them', () => {
    const decoder = new StreamFrameDecoder(1024);
    const chunk = Uint8Array.of(2, 9, 9, 2);
    const [first] = decoder.push(chunk);
    chunk.fill(0);
    decoder.push(Uint8Array.of(7, 7));
    expect([...(first ?? [])]).toEqual([9, 9]);
  });
});
