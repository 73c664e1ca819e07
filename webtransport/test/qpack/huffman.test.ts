/** The HPACK Huffman code QPACK uses for string literals (RFC 7541 §5.2, Appendix B; RFC 9204 §4.1.2). */
import { describe, expect, it } from 'vitest';
import { huffmanDecode, huffmanEncode } from '../../src/qpack/huffman.ts';
import { expectH3Error } from '../support/expect-h3-error.ts';

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('Huffman code (RFC 7541 Appendix B)', () => {
  // RFC 7541 C.4 and C.6 examples.
  const vectors: [string, string][] = [
    ['www.example.com', 'f1e3 c2e5 f23a 6ba0 ab90 f4ff'],
    ['no-cache', 'a8eb 1064 9cbf'],
    ['custom-key', '25a8 49e9 5ba9 7d7f'],
    ['custom-value', '25a8 49e9 5bb8 e8b4 bf'],
    ['302', '6402'],
    ['private', 'aec3 771a 4b'],
    ['Mon, 21 Oct 2013 20:13:21 GMT', 'd07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff'],
    ['https://www.example.com', '9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3'],
    [
      'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1',
      '94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07',
    ],
  ];
  for (const [text, encoded] of vectors) {
    it(`encodes and decodes "${text}"`, () => {
      expect(huffmanEncode(ascii(text))).toEqual(hex(encoded));
      expect(new TextDecoder().decode(huffmanDecode(hex(encoded), 1000))).toBe(text);
    });
  }

  it('round-trips every byte value', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(huffmanDecode(huffmanEncode(all), 1000)).toEqual(all);
  });

  it('rejects padding longer than 7 bits', () => {
    // "0" is 00000 (5 bits); then a full 0xff byte of padding is 11 bits of ones.
    expectH3Error(() => huffmanDecode(hex('07 ff'), 100), 'QPACK_DECOMPRESSION_FAILED');
  });

  it('rejects padding that is not all ones', () => {
    // "0" then three 0 bits of padding.
    expectH3Error(() => huffmanDecode(hex('00'), 100), 'QPACK_DECOMPRESSION_FAILED');
  });

  it('rejects an encoded EOS symbol', () => {
    expectH3Error(() => huffmanDecode(hex('ff ff ff ff'), 100), 'QPACK_DECOMPRESSION_FAILED');
  });

  it('rejects output longer than the limit', () => {
    expectH3Error(() => huffmanDecode(huffmanEncode(ascii('www.example.com')), 5), 'QPACK_DECOMPRESSION_FAILED');
  });
});
