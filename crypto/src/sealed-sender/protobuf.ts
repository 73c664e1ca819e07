/**
 * The few protobuf (proto2) encodings libsignal's sealed_sender.proto needs, so certificates and
 * messages are byte-compatible with libsignal (which encodes with prost: fields in ascending
 * number order, optional fields absent when unset). Protocol Buffers encoding guide: varint
 * (wire type 0), 64-bit (1), length-delimited (2), 32-bit (5).
 *
 * Decoding is stricter than prost where that removes ambiguity: a known field given twice, a
 * varint longer than 10 bytes, group wire types (3, 4) and field number 0 are refused, so two
 * parsers can never read one signed certificate differently. Unknown fields are skipped (as
 * prost does): the signature covers the bytes as received, whatever they hold.
 */
import { concatBytes } from '../bytes.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;
const MAX_VARINT_BYTES = 10;

function varint(value: bigint): Uint8Array {
  const out: number[] = [];
  let v = value;
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return Uint8Array.from(out);
}

function key(field: number, wireType: number): Uint8Array {
  return varint(BigInt((field << 3) | wireType));
}

/** Builds one message; callers add fields in ascending field-number order, as prost writes them. */
export class ProtoWriter {
  readonly #parts: Uint8Array[] = [];

  /** uint32 / enum field (a non-negative value). */
  uint(field: number, value: number): this {
    this.#parts.push(key(field, WIRE_VARINT), varint(BigInt(value)));
    return this;
  }

  /**
   * int32 field: a negative value (a u32 above 2^31 - 1 passed as i32, as libsignal writes
   * content hints) is sign-extended to ten bytes, as protobuf encodes negative int32.
   */
  int32(field: number, value: number): this {
    this.#parts.push(key(field, WIRE_VARINT), varint(BigInt.asUintN(64, BigInt(value | 0))));
    return this;
  }

  fixed64(field: number, value: number): this {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(value), true);
    this.#parts.push(key(field, WIRE_FIXED64), bytes);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.#parts.push(key(field, WIRE_LENGTH_DELIMITED), varint(BigInt(value.length)), value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  finish(): Uint8Array {
    return concatBytes(...this.#parts);
  }
}

type FieldValue = { wireType: number; varint?: bigint; bytes?: Uint8Array };

/** The known fields of one decoded message, each read at most once through the typed getters. */
export class ProtoFields {
  readonly #fields: Map<number, FieldValue>;
  readonly #what: string;

  private constructor(fields: Map<number, FieldValue>, what: string) {
    this.#fields = fields;
    this.#what = what;
  }

  /** Parses `bytes`; `known` are the field numbers the message defines (duplicates of those are refused). */
  static decode(bytes: Uint8Array, known: readonly number[], what: string): ProtoFields {
    const fields = new Map<number, FieldValue>();
    let offset = 0;
    const malformed = (why: string) => new CryptoError(CryptoErrorCode.MalformedMessage, `${what}: ${why}`);
    const readVarint = (): bigint => {
      let result = 0n;
      for (let i = 0; i < MAX_VARINT_BYTES; i++) {
        if (offset >= bytes.length) throw malformed('truncated varint');
        const byte = bytes[offset++]!;
        result |= BigInt(byte & 0x7f) << BigInt(7 * i);
        if ((byte & 0x80) === 0) return result;
      }
      throw malformed('varint too long');
    };
    const take = (length: number): Uint8Array => {
      if (length > bytes.length - offset) throw malformed('truncated field');
      const out = bytes.slice(offset, offset + length);
      offset += length;
      return out;
    };
    while (offset < bytes.length) {
      const tag = readVarint();
      const field = Number(tag >> 3n);
      const wireType = Number(tag & 7n);
      if (field === 0 || tag >> 3n > 0x1fffffffn) throw malformed('invalid field number');
      let value: FieldValue;
      if (wireType === WIRE_VARINT) value = { wireType, varint: readVarint() };
      else if (wireType === WIRE_FIXED64) value = { wireType, bytes: take(8) };
      else if (wireType === WIRE_LENGTH_DELIMITED) {
        const length = readVarint();
        if (length > BigInt(bytes.length - offset)) throw malformed('truncated field');
        value = { wireType, bytes: take(Number(length)) };
      } else if (wireType === WIRE_FIXED32) value = { wireType, bytes: take(4) };
      else throw malformed(`unsupported wire type ${wireType}`);
      if (!known.includes(field)) continue;
      if (fields.has(field)) throw malformed(`field ${field} appears twice`);
      fields.set(field, value);
    }
    return new ProtoFields(fields, what);
  }

  #get(field: number, wireType: number): FieldValue | undefined {
    const value = this.#fields.get(field);
    if (value && value.wireType !== wireType) {
      throw new CryptoError(CryptoErrorCode.MalformedMessage, `${this.#what}: field ${field} has the wrong wire type`);
    }
    return value;
  }

  #missing(field: number): CryptoError {
    return new CryptoError(CryptoErrorCode.MalformedMessage, `${this.#what}: field ${field} is missing`);
  }

  /** A varint field as its full 64-bit value, or undefined when absent. */
  varint(field: number): bigint | undefined {
    return this.#get(field, WIRE_VARINT)?.varint;
  }

  /** A uint32 field (prost refuses larger values for uint32 the same way). */
  uint32(field: number): number | undefined {
    const value = this.varint(field);
    if (value === undefined) return undefined;
    if (value > 0xffffffffn) {
      throw new CryptoError(CryptoErrorCode.MalformedMessage, `${this.#what}: field ${field} exceeds uint32`);
    }
    return Number(value);
  }

  requiredUint32(field: number): number {
    const value = this.uint32(field);
    if (value === undefined) throw this.#missing(field);
    return value;
  }

  /** A fixed64 field, refused beyond Number.MAX_SAFE_INTEGER (2^53 - 1 ms is year 287396). */
  requiredFixed64(field: number): number {
    const raw = this.#get(field, WIRE_FIXED64)?.bytes;
    if (!raw) throw this.#missing(field);
    const value = new DataView(raw.buffer, raw.byteOffset, 8).getBigUint64(0, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new CryptoError(CryptoErrorCode.MalformedMessage, `${this.#what}: field ${field} is out of range`);
    }
    return Number(value);
  }

  bytes(field: number): Uint8Array | undefined {
    return this.#get(field, WIRE_LENGTH_DELIMITED)?.bytes;
  }

  requiredBytes(field: number): Uint8Array {
    const value = this.bytes(field);
    if (!value) throw this.#missing(field);
    return value;
  }

  /** A string field: UTF-8, refused when invalid (prost validates strings too). */
  requiredString(field: number): string {
    const raw = this.requiredBytes(field);
    try {
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
    } catch (cause) {
      throw new CryptoError(CryptoErrorCode.MalformedMessage, `${this.#what}: field ${field} is not UTF-8`, { cause });
    }
  }
}
