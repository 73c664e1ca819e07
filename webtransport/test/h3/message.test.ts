/**
 * HTTP message checks (RFC 9114 §4.3, RFC 9220 §3): malformed heads are stream
 * errors H3_MESSAGE_ERROR (RFC 9114 §4.1.2); well-formed ones are parsed.
 */
import { describe, expect, it } from 'vitest';
import { H3Error } from '../../src/h3/errors.ts';
import { parseRequestHead, parseResponseHead } from '../../src/h3/message.ts';
import type { FieldLine } from '../../src/qpack/field-section.ts';
import { connectRequest } from '../support/h3-fixtures.ts';

describe('message checks (RFC 9114 §4.3, RFC 9220)', () => {
  const malformed: [string, FieldLine[]][] = [
    ['an uppercase name', [...connectRequest, { name: 'Origin', value: 'x' }]],
    ['a missing :method', connectRequest.slice(1)],
    [
      'a pseudo-header after a regular field',
      [...connectRequest.slice(0, 4), { name: 'a', value: 'b' }, connectRequest[4] as FieldLine],
    ],
    ['an extended CONNECT without :path', connectRequest.filter((f) => f.name !== ':path')],
    ['an unknown pseudo-header', [...connectRequest.slice(0, 5), { name: ':nope', value: 'x' }]],
    ['a connection-specific field', [...connectRequest, { name: 'connection', value: 'close' }]],
    [':protocol on GET', [{ name: ':method', value: 'GET' }, ...connectRequest.slice(1)]],
    ['a duplicate pseudo-header', [...connectRequest.slice(0, 5), { name: ':path', value: '/again' }]],
    [
      'a classic CONNECT with :path',
      [
        { name: ':method', value: 'CONNECT' },
        { name: ':authority', value: 'localhost' },
        { name: ':path', value: '/' },
      ],
    ],
  ];
  for (const [name, fields] of malformed) {
    it(`treats ${name} as H3_MESSAGE_ERROR (stream scope)`, () => {
      try {
        parseRequestHead(fields, 4);
        throw new Error('expected H3_MESSAGE_ERROR');
      } catch (error) {
        expect(error).toMatchObject({ code: 'H3_MESSAGE_ERROR', scope: 'stream', streamId: 4 });
      }
    });
  }

  it('parses an extended CONNECT, joining repeated fields with ", " (RFC 9110 §5.3)', () => {
    const head = parseRequestHead(
      [
        ...connectRequest,
        { name: 'wt-available-protocols', value: '"a"' },
        { name: 'wt-available-protocols', value: '"b"' },
      ],
      0,
    );
    expect(head).toMatchObject({ method: 'CONNECT', protocol: 'webtransport', path: '/echo', authority: 'localhost' });
    expect(head.fields.get('wt-available-protocols')).toBe('"a", "b"');
  });

  it('parses responses and refuses an invalid :status', () => {
    expect(
      parseResponseHead(
        [
          { name: ':status', value: '200' },
          { name: 'wt-protocol', value: '"a"' },
        ],
        0,
      ),
    ).toMatchObject({
      status: 200,
    });
    expect(() => parseResponseHead([{ name: ':status', value: 'abc' }], 0)).toThrow(H3Error);
    expect(() => parseResponseHead([{ name: ':status', value: '99' }], 0)).toThrow(H3Error);
  });
});
