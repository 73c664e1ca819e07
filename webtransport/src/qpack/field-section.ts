/**
 * QPACK field sections (RFC 9204 §4.5) without a dynamic table.
 *
 * This endpoint advertises SETTINGS_QPACK_MAX_TABLE_CAPACITY = 0 and
 * SETTINGS_QPACK_BLOCKED_STREAMS = 0, so a conforming peer only uses the static
 * table and literals (§3.2.3). Anything that refers to the dynamic table is a
 * QPACK_DECOMPRESSION_FAILED connection error (§2.2.3, §4.5.1.1).
 */
import { H3Error } from '../h3/errors.ts';
import { huffmanDecode, huffmanEncode, huffmanEncodedLength } from './huffman.ts';
import { readPrefixedInteger, writePrefixedInteger } from './prefixed-integer.ts';
import { STATIC_TABLE, staticIndexOf, staticNameIndexOf } from './static-table.ts';

export interface FieldLine {
  readonly name: string;
  readonly value: string;
}

/** RFC 9114 §4.2.2: each field line counts its name, its value and 32 bytes. */
export const FIELD_LINE_OVERHEAD = 32;

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

function fail(message: string): never {
  throw new H3Error('QPACK_DECOMPRESSION_FAILED', message);
}

/**
 * Decodes an encoded field section. `maxSectionSize` bounds the decoded size
 * (RFC 9114 §4.2.2); exceeding it is H3_EXCESSIVE_LOAD.
 */
export function decodeFieldSection(block: Uint8Array, maxSectionSize: number): FieldLine[] {
  // Section prefix (§4.5.1): Required Insert Count, then sign bit and Delta Base.
  const requiredInsertCount = readPrefixedInteger(block, 0, 8);
  if (requiredInsertCount.value !== 0) fail('field section refers to the dynamic table');
  const deltaBase = readPrefixedInteger(block, requiredInsertCount.next, 7);
  let offset = deltaBase.next;
  const lines: FieldLine[] = [];
  let size = 0;
  const add = (name: string, value: string): void => {
    size += name.length + value.length + FIELD_LINE_OVERHEAD;
    if (size > maxSectionSize) throw new H3Error('H3_EXCESSIVE_LOAD', 'field section exceeds the size limit');
    lines.push({ name, value });
  };
  const readString = (prefixBits: number): string => {
    const huffmanFlag = 1 << prefixBits;
    const huffman = ((block[offset] as number) & huffmanFlag) !== 0;
    const length = readPrefixedInteger(block, offset, prefixBits);
    const end = length.next + length.value;
    if (end > block.length) fail('truncated string literal');
    if (length.value > maxSectionSize) throw new H3Error('H3_EXCESSIVE_LOAD', 'string literal exceeds the size limit');
    const raw = block.subarray(length.next, end);
    offset = end;
    return utf8Decoder.decode(huffman ? huffmanDecode(raw, maxSectionSize) : raw);
  };
  const staticEntry = (index: number): readonly [string, string] => {
    const entry = STATIC_TABLE[index];
    if (entry === undefined) fail(`static table index ${index} out of range`);
    return entry;
  };
  while (offset < block.length) {
    const first = block[offset] as number;
    if ((first & 0x80) !== 0) {
      // Indexed field line (§4.5.2): 1 T index(6).
      if ((first & 0x40) === 0) fail('indexed field line refers to the dynamic table');
      const index = readPrefixedInteger(block, offset, 6);
      offset = index.next;
      const [name, value] = staticEntry(index.value);
      add(name, value);
    } else if ((first & 0x40) !== 0) {
      // Literal field line with name reference (§4.5.4): 0 1 N T index(4).
      if ((first & 0x10) === 0) fail('literal field line refers to a dynamic name');
      const index = readPrefixedInteger(block, offset, 4);
      offset = index.next;
      const [name] = staticEntry(index.value);
      add(name, readString(7));
    } else if ((first & 0x20) !== 0) {
      // Literal field line with literal name (§4.5.6): 0 0 1 N H length(3).
      const name = readString(3);
      add(name, readString(7));
    } else {
      // 0001xxxx indexed post-base, 0000xxxx literal with post-base name: dynamic only.
      fail('field line refers to the dynamic table (post-base)');
    }
  }
  return lines;
}

function writeString(out: number[], text: string, prefixBits: number, flags: number): void {
  const raw = utf8.encode(text);
  const huffmanLength = huffmanEncodedLength(raw);
  if (huffmanLength < raw.length) {
    writePrefixedInteger(out, huffmanLength, prefixBits, flags | (1 << prefixBits));
    for (const byte of huffmanEncode(raw)) out.push(byte);
  } else {
    writePrefixedInteger(out, raw.length, prefixBits, flags);
    for (const byte of raw) out.push(byte);
  }
}

/** Encodes field lines with the static table and (Huffman-coded when shorter) literals. */
export function encodeFieldSection(lines: readonly FieldLine[]): Uint8Array {
  // Required Insert Count 0 and Delta Base 0.
  const out: number[] = [0x00, 0x00];
  for (const { name, value } of lines) {
    const exact = staticIndexOf(name, value);
    if (exact !== undefined) {
      writePrefixedInteger(out, exact, 6, 0xc0);
      continue;
    }
    const nameIndex = staticNameIndexOf(name);
    if (nameIndex !== undefined) {
      writePrefixedInteger(out, nameIndex, 4, 0x50);
    } else {
      writeString(out, name, 3, 0x20);
    }
    writeString(out, value, 7, 0x00);
  }
  return Uint8Array.from(out);
}
