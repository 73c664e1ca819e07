import { describe, expect, it } from 'vitest';
import { H3Error } from '../../src/h3/errors.ts';
import { decodeFieldSection, encodeFieldSection } from '../../src/qpack/field-section.ts';
import { huffmanDecode, huffmanEncode } from '../../src/qpack/huffman.ts';
import { readPrefixedInteger, writePrefixedInteger } from '../../src/qpack/prefixed-integer.ts';
import { STATIC_TABLE } from '../../src/qpack/static-table.ts';

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);

function expectH3Error(run: () => unknown, code: string): void {
  try {
    run();
  } catch (error) {
    expect(H3Error.is(error)).toBe(true);
    expect((error as H3Error).code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}`);
}

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

describe('prefixed integers (RFC 7541 §5.1, C.1)', () => {
  it('encodes 10, 1337 and 42 like the RFC examples', () => {
    const out: number[] = [];
    writePrefixedInteger(out, 10, 5, 0);
    writePrefixedInteger(out, 1337, 5, 0);
    writePrefixedInteger(out, 42, 8, 0);
    expect(out).toEqual([0x0a, 0x1f, 0x9a, 0x0a, 0x2a]);
    const bytes = Uint8Array.from(out);
    expect(readPrefixedInteger(bytes, 0, 5)).toEqual({ value: 10, next: 1 });
    expect(readPrefixedInteger(bytes, 1, 5)).toEqual({ value: 1337, next: 4 });
    expect(readPrefixedInteger(bytes, 4, 8)).toEqual({ value: 42, next: 5 });
  });

  it('rejects truncated and oversized integers', () => {
    expectH3Error(() => readPrefixedInteger(hex('1f 9a'), 0, 5), 'QPACK_DECOMPRESSION_FAILED');
    expectH3Error(() => readPrefixedInteger(hex('1f ff ff ff ff ff 01'), 0, 5), 'QPACK_DECOMPRESSION_FAILED');
  });
});

describe('QPACK field sections (RFC 9204)', () => {
  it('has the 99 static entries of Appendix A', () => {
    expect(STATIC_TABLE).toHaveLength(99);
    expect(STATIC_TABLE[15]).toEqual([':method', 'CONNECT']);
    expect(STATIC_TABLE[98]).toEqual(['x-frame-options', 'sameorigin']);
  });

  it('decodes the literal-with-name-reference example of Appendix B.1', () => {
    expect(decodeFieldSection(hex('0000 510b 2f69 6e64 6578 2e68 746d 6c'), 1000)).toEqual([
      { name: ':path', value: '/index.html' },
    ]);
  });

  it('round-trips a WebTransport CONNECT request', () => {
    const fields = [
      { name: ':method', value: 'CONNECT' },
      { name: ':protocol', value: 'webtransport' },
      { name: ':scheme', value: 'https' },
      { name: ':authority', value: 'localhost:4433' },
      { name: ':path', value: '/pulse?x=1' },
      { name: 'origin', value: 'https://example.org' },
      { name: 'sec-webtransport-http3-draft02', value: '1' },
      { name: 'wt-available-protocols', value: '"a", "b"' },
    ];
    const encoded = encodeFieldSection(fields);
    expect(encoded[0]).toBe(0); // Required Insert Count 0
    expect(decodeFieldSection(encoded, 16_384)).toEqual(fields);
  });

  it('refuses dynamic table references', () => {
    expectH3Error(() => decodeFieldSection(hex('0200 80'), 1000), 'QPACK_DECOMPRESSION_FAILED'); // RIC ≠ 0
    expectH3Error(() => decodeFieldSection(hex('0000 80'), 1000), 'QPACK_DECOMPRESSION_FAILED'); // indexed, T=0
    expectH3Error(() => decodeFieldSection(hex('0000 10'), 1000), 'QPACK_DECOMPRESSION_FAILED'); // post-base
    expectH3Error(() => decodeFieldSection(hex('0000 4100'), 1000), 'QPACK_DECOMPRESSION_FAILED'); // dynamic name
  });

  it('refuses an out-of-range static index and truncated literals', () => {
    expectH3Error(() => decodeFieldSection(hex('0000 ff24'), 1000), 'QPACK_DECOMPRESSION_FAILED'); // index 99
    expectH3Error(() => decodeFieldSection(hex('0000 510b 2f69'), 1000), 'QPACK_DECOMPRESSION_FAILED');
    expectH3Error(() => decodeFieldSection(hex('00'), 1000), 'QPACK_DECOMPRESSION_FAILED');
  });

  it('refuses a section larger than the limit with H3_EXCESSIVE_LOAD', () => {
    const big = encodeFieldSection([{ name: 'x-big', value: 'v'.repeat(2000) }]);
    expectH3Error(() => decodeFieldSection(big, 1000), 'H3_EXCESSIVE_LOAD');
  });
});
