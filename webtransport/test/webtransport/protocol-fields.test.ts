/**
 * `wt-available-protocols` (a Structured Field List) and `wt-protocol` (an Item),
 * draft-ietf-webtrans-http3-16 §3.3: only String values are valid (RFC 9651
 * §3.3.3); any other value type, an inner list, or a field that does not parse
 * makes the whole field ignored (RFC 9651 §4.2); parameters are ignored.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  parseAvailableProtocols,
  parseSelectedProtocol,
  serializeAvailableProtocols,
  serializeSelectedProtocol,
} from '../../src/webtransport/protocol-fields.ts';

describe('wt-available-protocols', () => {
  const cases: [string, string | undefined, string[]][] = [
    ['an absent field', undefined, []],
    ['an empty list', '', []],
    ['Strings, in order of preference', '"chat-v2", "chat-v1"', ['chat-v2', 'chat-v1']],
    ['Strings with parameters (ignored)', '"chat-v2";q=1;x, "chat-v1";y="z"', ['chat-v2', 'chat-v1']],
    ['escaped quotes and backslashes', '"a\\"b", "c\\\\d"', ['a"b', 'c\\d']],
    ['optional whitespace around members', '  "a" ,"b"  ', ['a', 'b']],
    ['the lines of a repeated field joined by ", "', '"a", "b", "c"', ['a', 'b', 'c']],
    // Any value type other than String: the entire field is ignored.
    ['a Token among Strings', '"chat-v1", chat-v2', []],
    ['an Integer', '"chat-v1", 2', []],
    ['a Decimal', '1.5', []],
    ['a Boolean', '?1', []],
    ['a Byte Sequence', ':AQID:', []],
    ['a Date', '@1659578233', []],
    ['a Display String', '%"chat"', []],
    ['an Inner List of Strings', '("chat-v1" "chat-v2")', []],
    ['an Inner List after a String', '"chat-v1", ("chat-v2")', []],
    // Fields that do not parse: ignored.
    ['a trailing comma', '"chat-v1",', []],
    ['members without a comma', '"chat-v1" "chat-v2"', []],
    ['an unterminated String', '"chat-v1', []],
    ['a non-ASCII String', '"chät"', []],
    ['a bad escape', '"a\\b"', []],
  ];
  for (const [name, value, protocols] of cases) {
    it(`parses ${name}: ${JSON.stringify(value)} → ${JSON.stringify(protocols)}`, () => {
      expect(parseAvailableProtocols(value)).toEqual(protocols);
    });
  }

  it('serializes Strings, escaping quotes and backslashes (RFC 9651 §4.1.6)', () => {
    expect(serializeAvailableProtocols(['chat-v2', 'a"b', 'c\\d'])).toBe('"chat-v2", "a\\"b", "c\\\\d"');
    expect(serializeAvailableProtocols([])).toBe('');
  });

  it('refuses to serialize what a String cannot carry (RangeError)', () => {
    expect(() => serializeAvailableProtocols(['ok', 'chät'])).toThrow(RangeError);
    expect(() => serializeAvailableProtocols(['line\nbreak'])).toThrow(RangeError);
  });

  it('round-trips any list of printable ASCII strings', () => {
    const printable = fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
    });
    fc.assert(
      fc.property(fc.array(printable, { maxLength: 8 }), (protocols) => {
        expect(parseAvailableProtocols(serializeAvailableProtocols(protocols))).toEqual(protocols);
      }),
      { numRuns: 500 },
    );
  });
});

describe('wt-protocol', () => {
  const cases: [string, string | undefined, string | undefined][] = [
    ['an absent field', undefined, undefined],
    ['a String', '"chat-v2"', 'chat-v2'],
    ['a String with parameters (ignored)', '"chat-v2";v=2', 'chat-v2'],
    ['a Token', 'chat-v2', undefined],
    ['an Integer', '2', undefined],
    ['an Inner List', '("chat-v2")', undefined],
    ['two Strings (a repeated field, joined)', '"chat-v1", "chat-v2"', undefined],
    ['an empty field', '', undefined],
    ['an unterminated String', '"chat-v2', undefined],
  ];
  for (const [name, value, protocol] of cases) {
    it(`parses ${name}: ${JSON.stringify(value)} → ${JSON.stringify(protocol)}`, () => {
      expect(parseSelectedProtocol(value)).toBe(protocol);
    });
  }

  it('serializes a String and refuses what a String cannot carry', () => {
    expect(serializeSelectedProtocol('chat "v2"')).toBe('"chat \\"v2\\""');
    expect(parseSelectedProtocol(serializeSelectedProtocol('chat "v2"'))).toBe('chat "v2"');
    expect(() => serializeSelectedProtocol('\u0007')).toThrow(RangeError);
  });
});
