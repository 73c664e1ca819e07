/**
 * The HPACK/QPACK Huffman code (RFC 7541 Appendix B, reused by RFC 9204 §4.1.2).
 *
 * The code is canonical: symbols sorted by (code length, symbol) receive
 * consecutive codes. So the table below holds only the 257 code lengths, and the
 * codes themselves are derived at load time (tests check them against the RFC's
 * examples). Symbol 256 is EOS, which must never appear in a decoded string.
 */
import { H3Error } from '../h3/errors.ts';

// biome-ignore format: one row per 16 symbols reads like the RFC table.
const CODE_LENGTHS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
];

const EOS = 256;

/** codes[symbol], right-aligned in `CODE_LENGTHS[symbol]` bits. */
const CODES: number[] = buildCanonicalCodes();

/** Binary decoding trie: node i has children at CHILD[2i] (bit 0) and CHILD[2i+1]; leaves hold -1 - symbol. */
const CHILD: Int32Array = buildTrie();

function buildCanonicalCodes(): number[] {
  const order = CODE_LENGTHS.map((_, symbol) => symbol).sort(
    (a, b) => (CODE_LENGTHS[a] as number) - (CODE_LENGTHS[b] as number) || a - b,
  );
  const codes = new Array<number>(CODE_LENGTHS.length).fill(0);
  let code = 0;
  let previousLength = CODE_LENGTHS[order[0] as number] as number;
  for (const [rank, symbol] of order.entries()) {
    const length = CODE_LENGTHS[symbol] as number;
    if (rank > 0) code = (code + 1) * 2 ** (length - previousLength);
    codes[symbol] = code;
    previousLength = length;
  }
  return codes;
}

function buildTrie(): Int32Array {
  const child = new Int32Array(2 * 2 * CODE_LENGTHS.length).fill(0);
  let nodes = 1;
  for (let symbol = 0; symbol < CODE_LENGTHS.length; symbol++) {
    const length = CODE_LENGTHS[symbol] as number;
    const code = CODES[symbol] as number;
    let node = 0;
    for (let bit = length - 1; bit >= 0; bit--) {
      const slot = 2 * node + (Math.floor(code / 2 ** bit) & 1);
      if (bit === 0) {
        child[slot] = -1 - symbol;
      } else {
        if (child[slot] === 0) child[slot] = nodes++;
        node = child[slot] as number;
      }
    }
  }
  return child;
}

/** Length in bytes of the Huffman encoding of `bytes`. */
export function huffmanEncodedLength(bytes: Uint8Array): number {
  let bits = 0;
  for (const byte of bytes) bits += CODE_LENGTHS[byte] as number;
  return Math.ceil(bits / 8);
}

export function huffmanEncode(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(huffmanEncodedLength(bytes));
  let accumulator = 0;
  let pending = 0;
  let offset = 0;
  for (const byte of bytes) {
    const length = CODE_LENGTHS[byte] as number;
    const code = CODES[byte] as number;
    // Feed long codes in two halves so the accumulator stays below 2^32.
    for (let remaining = length; remaining > 0; ) {
      const take = Math.min(remaining, 16);
      remaining -= take;
      accumulator = ((accumulator << take) | (Math.floor(code / 2 ** remaining) & ((1 << take) - 1))) >>> 0;
      pending += take;
      while (pending >= 8) {
        pending -= 8;
        out[offset++] = (accumulator >>> pending) & 0xff;
      }
      accumulator &= (1 << pending) - 1;
    }
  }
  // Pad with the most significant bits of EOS, i.e. ones (RFC 7541 §5.2).
  if (pending > 0) out[offset] = ((accumulator << (8 - pending)) | (0xff >>> pending)) & 0xff;
  return out;
}

/**
 * Decodes a Huffman string; `maxLength` bounds the output. Invalid padding (more
 * than 7 bits or not all ones), an EOS symbol, or an over-long result is a
 * QPACK_DECOMPRESSION_FAILED error (RFC 7541 §5.2, RFC 9204 §4.1.2).
 */
export function huffmanDecode(bytes: Uint8Array, maxLength: number): Uint8Array {
  // Every symbol takes at least 5 bits, which bounds the output size up front.
  const out = new Uint8Array(Math.min(Math.floor((bytes.length * 8) / 5), maxLength + 1));
  let length = 0;
  let node = 0;
  let bitsSinceSymbol = 0;
  let allOnes = true;
  for (const byte of bytes) {
    for (let bit = 7; bit >= 0; bit--) {
      const value = (byte >>> bit) & 1;
      const next = CHILD[2 * node + value] as number;
      bitsSinceSymbol++;
      if (value === 0) allOnes = false;
      if (next < 0) {
        const symbol = -1 - next;
        if (symbol === EOS) throw new H3Error('QPACK_DECOMPRESSION_FAILED', 'Huffman string contains EOS');
        if (length >= maxLength) throw new H3Error('QPACK_DECOMPRESSION_FAILED', 'Huffman string exceeds limit');
        out[length++] = symbol;
        node = 0;
        bitsSinceSymbol = 0;
        allOnes = true;
      } else {
        node = next;
      }
    }
  }
  if (bitsSinceSymbol > 7 || !allOnes) {
    throw new H3Error('QPACK_DECOMPRESSION_FAILED', 'invalid Huffman padding');
  }
  return out.subarray(0, length);
}
