/** QPACK field sections without a dynamic table (RFC 9204 §4.5, Appendix A static table, Appendix B example). */
import { describe, expect, it } from 'vitest';
import { decodeFieldSection, encodeFieldSection } from '../../src/qpack/field-section.ts';
import { STATIC_TABLE } from '../../src/qpack/static-table.ts';
import { expectH3Error } from '../support/expect-h3-error.ts';

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));

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
