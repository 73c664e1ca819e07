/**
 * The peer's QPACK encoder and decoder streams (RFC 9204 §4.2) as an endpoint
 * reads them when it advertises a dynamic table capacity of 0 (§3.2.3) and never
 * refers to a dynamic table itself. Then the encoder stream may only carry Set
 * Dynamic Table Capacity 0 (§4.3.1), and the decoder stream only Stream
 * Cancellation (§4.4.2): a Section Acknowledgment or Insert Count Increment would
 * acknowledge entries that cannot exist. Both streams are critical: ending one
 * is H3_CLOSED_CRITICAL_STREAM (§4.2). Instructions may arrive split anywhere.
 */
import { H3Error, type H3ErrorName } from '../h3/errors.ts';
import { type IntegerRead, readPrefixedIntegerIfComplete } from './prefixed-integer.ts';

/**
 * An instruction integer still incomplete after this many bytes is malformed: a
 * value up to 2^32 - 1 needs 6, so the bytes kept between calls stay bounded.
 */
const MAX_PENDING_INTEGER_BYTES = 8;

const EMPTY = new Uint8Array(0);

/** Bytes of an instruction not complete yet, joined with the next input. */
class InstructionBuffer {
  #pending: Uint8Array = EMPTY;

  join(data: Uint8Array): Uint8Array {
    if (this.#pending.length === 0) return data;
    const joined = new Uint8Array(this.#pending.length + data.length);
    joined.set(this.#pending);
    joined.set(data, this.#pending.length);
    return joined;
  }

  keep(bytes: Uint8Array, from: number): void {
    this.#pending = from >= bytes.length ? EMPTY : bytes.slice(from);
  }
}

/** An instruction's integer, or undefined when its bytes have not all arrived yet. */
function readInteger(
  bytes: Uint8Array,
  offset: number,
  prefixBits: number,
  code: H3ErrorName,
): IntegerRead | undefined {
  const read = readPrefixedIntegerIfComplete(bytes, offset, prefixBits, code);
  if (read === undefined && bytes.length - offset > MAX_PENDING_INTEGER_BYTES) {
    throw new H3Error(code, 'malformed instruction integer');
  }
  return read;
}

/** The peer's encoder stream, after its stream type. */
export class EncoderInstructionStream {
  readonly kind = 'qpack-encoder';
  readonly #buffer = new InstructionBuffer();

  receive(data: Uint8Array, fin: boolean): void {
    if (fin) throw new H3Error('H3_CLOSED_CRITICAL_STREAM', 'QPACK encoder stream closed');
    const bytes = this.#buffer.join(data);
    let offset = 0;
    while (offset < bytes.length) {
      // Set Dynamic Table Capacity is 001xxxxx; 1xxxxxxx and 01xxxxxx insert, 000xxxxx duplicates (§4.3).
      if (((bytes[offset] as number) & 0xe0) !== 0x20) {
        throw new H3Error('QPACK_ENCODER_STREAM_ERROR', 'dynamic table insert with capacity 0');
      }
      const capacity = readInteger(bytes, offset, 5, 'QPACK_ENCODER_STREAM_ERROR');
      if (capacity === undefined) break;
      if (capacity.value !== 0) throw new H3Error('QPACK_ENCODER_STREAM_ERROR', 'dynamic table capacity above 0');
      offset = capacity.next;
    }
    this.#buffer.keep(bytes, offset);
  }
}

/** The peer's decoder stream, after its stream type. */
export class DecoderInstructionStream {
  readonly kind = 'qpack-decoder';
  readonly #buffer = new InstructionBuffer();

  receive(data: Uint8Array, fin: boolean): void {
    if (fin) throw new H3Error('H3_CLOSED_CRITICAL_STREAM', 'QPACK decoder stream closed');
    const bytes = this.#buffer.join(data);
    let offset = 0;
    while (offset < bytes.length) {
      // Stream Cancellation is 01xxxxxx; Section Acknowledgment 1xxxxxxx, Insert Count Increment 00xxxxxx (§4.4).
      if (((bytes[offset] as number) & 0xc0) !== 0x40) {
        throw new H3Error('QPACK_DECODER_STREAM_ERROR', 'acknowledgement for a dynamic table never used');
      }
      const cancelled = readInteger(bytes, offset, 6, 'QPACK_DECODER_STREAM_ERROR');
      if (cancelled === undefined) break;
      offset = cancelled.next;
    }
    this.#buffer.keep(bytes, offset);
  }
}
