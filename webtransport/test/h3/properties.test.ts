/**
 * Properties of the sans-I/O HTTP/3 core under arbitrary input: any bytes on any
 * stream either parse or fail with a typed H3Error (never a TypeError or
 * RangeError that would escape as an internal error), and how bytes are split
 * into chunks never changes what is parsed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { H3Connection } from '../../src/h3/connection.ts';
import { H3Error } from '../../src/h3/errors.ts';
import { FrameReader } from '../../src/h3/frame-reader.ts';
import { concatWire, encodeFrame, FRAME } from '../../src/h3/frames.ts';
import { decodeFieldSection } from '../../src/qpack/field-section.ts';
import { webTransportLimits } from '../../src/webtransport/limits.ts';

const limits = webTransportLimits({ maxFrameBytes: 2048, maxFieldSectionSize: 2048, maxCapsuleBytes: 2048 });

function onlyH3Errors(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    if (!(error instanceof H3Error)) throw error;
  }
}

describe('HTTP/3 core under arbitrary input', () => {
  it('fails only with H3Error on random bytes, on every kind of stream', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('server', 'client'),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.uint8Array({ maxLength: 300 }), fc.boolean()), {
          maxLength: 12,
        }),
        (role, writes) => {
          const h3 = new H3Connection({ role: role as 'server' | 'client', limits });
          onlyH3Errors(() => {
            for (const [streamId, bytes, fin] of writes) h3.receiveStreamData(streamId, bytes, fin);
          });
          onlyH3Errors(() => h3.receiveDatagram(writes[0]?.[1] ?? new Uint8Array(0)));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('fails only with H3Error when a well-formed prefix is followed by random frames', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.bigInt({ min: 0n, max: 2n ** 62n - 1n }), fc.uint8Array({ maxLength: 64 })), {
          maxLength: 8,
        }),
        (frames) => {
          const h3 = new H3Connection({ role: 'server', limits });
          const body = frames.map(([type, payload]) => {
            const typeBytes = new Uint8Array(8);
            new DataView(typeBytes.buffer).setBigUint64(0, type | (3n << 62n));
            return concatWire([typeBytes, payload.length, payload]);
          });
          onlyH3Errors(() => h3.receiveStreamData(2, concatWire([0x00, 0x04, 0x00, ...body]), false));
          onlyH3Errors(() => h3.receiveStreamData(0, concatWire(body), false));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('decodes QPACK field sections or fails with a QPACK/H3 error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (block) => {
        onlyH3Errors(() => decodeFieldSection(block, 2048));
      }),
      { numRuns: 3000 },
    );
  });

  it('parses the same frames however the bytes are chunked', () => {
    const frame = fc.oneof(
      fc.uint8Array({ maxLength: 100 }).map((payload) => encodeFrame(FRAME.DATA, payload)),
      fc.uint8Array({ maxLength: 100 }).map((payload) => encodeFrame(FRAME.HEADERS, payload)),
      fc
        .tuple(fc.integer({ min: 0, max: 1000 }), fc.uint8Array({ maxLength: 50 }))
        .map(([n, payload]) => encodeFrame(0x1f * n + 0x21, payload)),
    );
    fc.assert(
      fc.property(fc.array(frame, { maxLength: 10 }), fc.array(fc.integer({ min: 1, max: 40 })), (frames, cuts) => {
        const bytes = concatWire(frames);
        // DATA payload bytes are tokens of their own: chunking may split DATA events anywhere.
        const summarize = (chunks: Uint8Array[]): string[] => {
          const reader = new FrameReader(1024);
          const out: string[] = [];
          for (const chunk of chunks) {
            for (const event of reader.push(chunk)) {
              if (event.kind === 'data') out.push(...[...event.chunk].map((byte) => `d${byte}`));
              else if (event.kind === 'frame') out.push(`frame:${event.type}:${[...event.payload].join(',')}`);
              else out.push(`unknown:${event.type}`);
            }
          }
          return out;
        };
        const chunks: Uint8Array[] = [];
        let offset = 0;
        for (const cut of cuts) {
          if (offset >= bytes.length) break;
          chunks.push(bytes.subarray(offset, offset + cut));
          offset += cut;
        }
        chunks.push(bytes.subarray(offset));
        expect(summarize(chunks)).toEqual(summarize([bytes]));
      }),
      { numRuns: 1000 },
    );
  });
});
