/**
 * The peer's QPACK encoder and decoder streams with a dynamic table capacity of 0
 * (RFC 9204 §3.2.3, §4.2-§4.4): the legal instructions, split anywhere, and each
 * illegal one with its error code; directly, and as a connection reads them.
 */
import { describe, expect, it } from 'vitest';
import { UNI_STREAM } from '../../src/h3/frames.ts';
import { DecoderInstructionStream, EncoderInstructionStream } from '../../src/qpack/instruction-streams.ts';
import { expectH3Error } from '../support/expect-h3-error.ts';
import { connection, feedByteByByte } from '../support/h3-fixtures.ts';

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

describe('encoder stream (RFC 9204 §4.3)', () => {
  it('accepts Set Dynamic Table Capacity 0, any number of times, in any reads', () => {
    const encoder = new EncoderInstructionStream();
    expect(() => {
      encoder.receive(bytes(0x20, 0x20), false);
      encoder.receive(bytes(0x20), false);
    }).not.toThrow();
  });

  const illegal: [string, Uint8Array][] = [
    ['Insert with Name Reference', bytes(0xc0, 0x01, 0x61)],
    ['Insert with Literal Name', bytes(0x41, 0x61, 0x01, 0x62)],
    ['Duplicate', bytes(0x00)],
    ['a capacity above 0', bytes(0x3f, 0xe1, 0x1f)],
    ['a capacity of 1', bytes(0x21)],
  ];
  for (const [name, instruction] of illegal) {
    it(`refuses ${name} with QPACK_ENCODER_STREAM_ERROR`, () => {
      expectH3Error(() => new EncoderInstructionStream().receive(instruction, false), 'QPACK_ENCODER_STREAM_ERROR');
    });
  }

  it('waits for a capacity cut off, then judges it whole', () => {
    const encoder = new EncoderInstructionStream();
    encoder.receive(bytes(0x3f), false); // 31 + more to come
    expectH3Error(() => encoder.receive(bytes(0xe1, 0x1f), false), 'QPACK_ENCODER_STREAM_ERROR');
  });

  it('refuses an integer that never ends instead of buffering it (8 bytes at most)', () => {
    const encoder = new EncoderInstructionStream();
    encoder.receive(bytes(0x3f, 0x80, 0x80), false);
    expectH3Error(
      () => encoder.receive(bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x80), false),
      'QPACK_ENCODER_STREAM_ERROR',
    );
  });

  it('is critical: its end is H3_CLOSED_CRITICAL_STREAM', () => {
    expectH3Error(() => new EncoderInstructionStream().receive(bytes(0x20), true), 'H3_CLOSED_CRITICAL_STREAM');
  });
});

describe('decoder stream (RFC 9204 §4.4)', () => {
  it('accepts Stream Cancellation, also with a stream id split across reads', () => {
    const decoder = new DecoderInstructionStream();
    expect(() => {
      decoder.receive(bytes(0x44, 0x7f), false); // cancel stream 4; then 63 and more to come
      decoder.receive(bytes(0x81), false); // + 1, more to come
      decoder.receive(bytes(0x01, 0x40), false); // + 128: stream 192; then cancel stream 0
    }).not.toThrow();
    // The split instruction was consumed whole: the next byte starts a new (illegal) instruction.
    expectH3Error(() => decoder.receive(bytes(0x80), false), 'QPACK_DECODER_STREAM_ERROR');
  });

  const illegal: [string, Uint8Array][] = [
    ['Section Acknowledgment', bytes(0x80)],
    ['Insert Count Increment', bytes(0x01)],
    ['a stream id above 2^32 - 1', bytes(0x7f, 0xff, 0xff, 0xff, 0xff, 0x7f)],
  ];
  for (const [name, instruction] of illegal) {
    it(`refuses ${name} with QPACK_DECODER_STREAM_ERROR`, () => {
      expectH3Error(() => new DecoderInstructionStream().receive(instruction, false), 'QPACK_DECODER_STREAM_ERROR');
    });
  }

  it('is critical: its end is H3_CLOSED_CRITICAL_STREAM', () => {
    expectH3Error(() => new DecoderInstructionStream().receive(bytes(0x44), true), 'H3_CLOSED_CRITICAL_STREAM');
  });
});

describe('QPACK streams as a connection reads them', () => {
  it('accepts Set Dynamic Table Capacity 0 and Stream Cancellation', () => {
    const h3 = connection();
    expect(feedByteByByte(h3, 6, bytes(UNI_STREAM.QPACK_ENCODER, 0x20))).toEqual([]);
    expect(feedByteByByte(h3, 10, bytes(UNI_STREAM.QPACK_DECODER, 0x44))).toEqual([]);
  });

  it('closes with QPACK_ENCODER_STREAM_ERROR on an insert or a non-zero capacity', () => {
    expectH3Error(() => connection().receiveStreamData(6, bytes(2, 0xc0, 0x01), false), 'QPACK_ENCODER_STREAM_ERROR');
    expectH3Error(
      () => connection().receiveStreamData(6, bytes(2, 0x3f, 0xe1, 0x1f), false),
      'QPACK_ENCODER_STREAM_ERROR',
    );
  });

  it('closes with QPACK_DECODER_STREAM_ERROR on a section acknowledgement', () => {
    expectH3Error(() => connection().receiveStreamData(6, bytes(3, 0x80), false), 'QPACK_DECODER_STREAM_ERROR');
  });

  it('closes with H3_CLOSED_CRITICAL_STREAM when a QPACK stream ends or is reset', () => {
    expectH3Error(() => connection().receiveStreamData(6, bytes(2), true), 'H3_CLOSED_CRITICAL_STREAM');
    const h3 = connection();
    h3.receiveStreamData(10, bytes(3), false);
    expectH3Error(() => h3.receiveStreamReset(10, 0), 'H3_CLOSED_CRITICAL_STREAM');
  });
});
