import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PROTO_LIMITS, FrameCodec, frameSchema, ProtoError, protoLimits } from '../src/index.ts';
import { arbitraryFrame } from './arbitrary-frame.ts';

const codec = new FrameCodec();
const frames = arbitraryFrame(frameSchema(DEFAULT_PROTO_LIMITS));
const fromHex = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));

/** Decodes, and insists that the only possible failure is a ProtoError. */
function decodeOrProtoError(bytes: Uint8Array): 'frame' | string {
  try {
    codec.decode(bytes);
    return 'frame';
  } catch (error) {
    if (!(error instanceof ProtoError)) throw error;
    return error.code;
  }
}

function codeOf(bytes: Uint8Array, withCodec = codec): string {
  try {
    withCodec.decode(bytes);
  } catch (error) {
    if (error instanceof ProtoError) return error.code;
    throw error;
  }
  throw new Error('decoded without error');
}

describe('hostile input to the frame decoder', () => {
  it('arbitrary bytes give a frame or a ProtoError, never another exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => void decodeOrProtoError(bytes)),
      {
        numRuns: 5000,
      },
    );
  });

  it('every truncation of a valid frame is refused with a ProtoError', () => {
    fc.assert(
      fc.property(frames, (frame) => {
        const bytes = codec.encode(frame);
        for (let length = 0; length < bytes.length; length++) {
          expect(decodeOrProtoError(bytes.subarray(0, length))).not.toBe('frame');
        }
      }),
      { numRuns: 200 },
    );
  });

  it('mutated frames give a frame or a ProtoError', () => {
    fc.assert(
      fc.property(
        frames,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (frame, edits) => {
          const bytes = codec.encode(frame);
          for (const [position, value] of edits) bytes[position % bytes.length] = value;
          decodeOrProtoError(bytes);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('refuses a frame above maxFrameBytes before parsing it', () => {
    const small = new FrameCodec(protoLimits({ maxFrameBytes: 64, maxPayloadBytes: 32 }));
    expect(codeOf(new Uint8Array(65), small)).toBe('PROTO_FRAME_TOO_LARGE');
    expect(() => small.encode({ type: 'publish', id: 1, channel: 'a', payload: new Uint8Array(60) })).toThrow(
      expect.objectContaining({ code: 'PROTO_FRAME_TOO_LARGE' }),
    );
  });

  it('refuses lengths that point past the end without allocating them', () => {
    // array32 announcing 2^32-1 elements, map32 likewise, str32 and bin32 of 4 GiB.
    expect(codeOf(fromHex('ddffffffff'))).toBe('PROTO_BAD_FIELD');
    expect(codeOf(fromHex('dd000003e8'))).toBe('PROTO_MALFORMED');
    expect(codeOf(fromHex('df000003e8'))).toBe('PROTO_MALFORMED');
    expect(codeOf(fromHex('dbffffffff41'))).toBe('PROTO_FRAME_TOO_LARGE');
    expect(codeOf(fromHex('c600000010aabb'))).toBe('PROTO_MALFORMED');
  });

  it('refuses nesting deeper than maxDepth', () => {
    const deep = new Uint8Array(10_000).fill(0x91); // [[[[...]]]]
    expect(codeOf(deep)).toBe('PROTO_TOO_DEEP');
    const nested = fromHex(`82a474797065a470696e67a56e6f6e6365${'91'.repeat(20)}01`);
    expect(codeOf(nested)).toBe('PROTO_TOO_DEEP');
  });

  it('refuses MessagePack extensions, the reserved byte, non-string keys and trailing bytes', () => {
    expect(codeOf(fromHex('d4000000'))).toBe('PROTO_MALFORMED'); // fixext 1 (msgpackr's undefined)
    expect(codeOf(fromHex('d6ff00000000'))).toBe('PROTO_MALFORMED'); // timestamp 32
    expect(codeOf(fromHex('c1'))).toBe('PROTO_MALFORMED');
    expect(codeOf(fromHex('810101'))).toBe('PROTO_MALFORMED'); // {1: 1}
    expect(codeOf(fromHex('82a474797065a470696e67a56e6f6e636507c0'))).toBe('PROTO_TRAILING_BYTES');
    expect(codeOf(new Uint8Array(0))).toBe('PROTO_MALFORMED');
  });

  it('names unknown types and the path of a bad field', () => {
    expect(codeOf(fromHex('07'))).toBe('PROTO_UNKNOWN_TYPE');
    expect(codeOf(fromHex('81a474797065a3666f6f'))).toBe('PROTO_UNKNOWN_TYPE'); // {type:"foo"}
    const bad = codec.encode({
      type: 'send',
      id: 1,
      to: 'bob',
      envelopes: [{ deviceId: 1, payload: new Uint8Array(1) }],
    });
    // Flip the device id (positive fixint 1) to 0: device ids start at 1.
    const index = Buffer.from(bad).indexOf(Buffer.from('a8646576696365496401', 'hex')) + 9;
    bad[index] = 0;
    try {
      codec.decode(bad);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ProtoError);
      expect((error as ProtoError).code).toBe('PROTO_BAD_FIELD');
      expect((error as ProtoError).path).toBe('envelopes.0.deviceId');
    }
  });

  it('does not let a __proto__ key reach the prototype', () => {
    // {"__proto__": {"type": "ping"}, ...} must not turn into a ping frame.
    const polluted = fromHex('81a95f5f70726f746f5f5f81a474797065a470696e67');
    expect(codeOf(polluted)).toBe('PROTO_UNKNOWN_TYPE');
    expect(({} as { type?: unknown }).type).toBeUndefined();
  });

  it('refuses oversized strings, arrays and payloads with PROTO_BAD_FIELD', () => {
    const long = codec.encode({
      type: 'hello',
      versions: [1],
      client: 'x'.repeat(DEFAULT_PROTO_LIMITS.maxStringLength + 1),
    });
    expect(codeOf(long)).toBe('PROTO_BAD_FIELD');
    const payload = new Uint8Array(DEFAULT_PROTO_LIMITS.maxPayloadBytes + 1);
    expect(codeOf(codec.encode({ type: 'publish', id: 1, channel: 'a', payload }))).toBe('PROTO_BAD_FIELD');
    const many = codec.encode({ type: 'deliver_ack', envelopeIds: Array.from({ length: 1001 }, (_, i) => `e${i}`) });
    expect(codeOf(many)).toBe('PROTO_BAD_FIELD');
  });
});

describe('errors carry what the answer needs', () => {
  it('a frame that fails validation keeps its valid request id', () => {
    const bad = codec.encode({ type: 'publish', id: 77, channel: 'a', payload: new Uint8Array(1) });
    // Turn the channel name "a" (fixstr a1 61, before the "payload" key) into " ", which channel names refuse.
    bad[Buffer.from(bad).indexOf(Buffer.from('a161a77061796c6f6164', 'hex')) + 1] = 0x20;
    try {
      codec.decode(bad);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'PROTO_BAD_FIELD', path: 'channel', requestId: 77 });
    }
  });

  it('a bad id itself is not echoed', () => {
    const bad = codec.encode({ type: 'ok', id: 1 });
    bad[bad.length - 1] = 0xff; // negative fixint -1
    expect(() => codec.decode(bad)).toThrow(expect.objectContaining({ code: 'PROTO_BAD_FIELD', requestId: undefined }));
  });
});
