/**
 * Minimal bounds-checked binary writer/reader for crypto/'s own formats (messages,
 * serialized state). Every read checks the remaining length first and fails with
 * CryptoError(MalformedMessage): a decoder validates before it trusts.
 */
import { CryptoError, CryptoErrorCode } from './errors.ts';

export class ByteWriter {
  #chunks: Uint8Array[] = [];
  #length = 0;

  u8(value: number): this {
    return this.raw(Uint8Array.of(value & 0xff));
  }

  u32(value: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value >>> 0);
    return this.raw(b);
  }

  /** Fixed-length bytes (the reader must know the length). */
  raw(bytes: Uint8Array): this {
    this.#chunks.push(bytes);
    this.#length += bytes.length;
    return this;
  }

  /** Length-prefixed (u32) bytes. */
  bytes(bytes: Uint8Array): this {
    return this.u32(bytes.length).raw(bytes);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let offset = 0;
    for (const c of this.#chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }
}

export class ByteReader {
  readonly #bytes: Uint8Array;
  #offset = 0;
  readonly #what: string;

  constructor(bytes: Uint8Array, what: string) {
    if (!(bytes instanceof Uint8Array)) {
      throw new CryptoError(CryptoErrorCode.MalformedMessage, `${what}: expected bytes`);
    }
    this.#bytes = bytes;
    this.#what = what;
  }

  get offset(): number {
    return this.#offset;
  }

  get remaining(): number {
    return this.#bytes.length - this.#offset;
  }

  #need(n: number): void {
    if (n > this.remaining) {
      throw new CryptoError(CryptoErrorCode.MalformedMessage, `${this.#what}: truncated`);
    }
  }

  u8(): number {
    this.#need(1);
    return this.#bytes[this.#offset++]!;
  }

  u32(): number {
    this.#need(4);
    const b = this.#bytes;
    const o = this.#offset;
    this.#offset += 4;
    return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  }

  raw(length: number): Uint8Array {
    this.#need(length);
    const out = this.#bytes.slice(this.#offset, this.#offset + length);
    this.#offset += length;
    return out;
  }

  /** Length-prefixed bytes, refusing lengths above `max`. */
  bytes(max: number): Uint8Array {
    const length = this.u32();
    if (length > max) throw new CryptoError(CryptoErrorCode.MalformedMessage, `${this.#what}: field too long`);
    return this.raw(length);
  }

  rest(): Uint8Array {
    return this.raw(this.remaining);
  }

  end(): void {
    if (this.remaining !== 0) {
      throw new CryptoError(CryptoErrorCode.MalformedMessage, `${this.#what}: trailing bytes`);
    }
  }
}
