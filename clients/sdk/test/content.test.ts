import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Content,
  decodeContent,
  encodeContent,
  groupPayload,
  parsePayload,
  sessionPayload,
} from '../src/content.ts';
import { PulseError } from '../src/errors.ts';
import { DEFAULT_CLIENT_LIMITS } from '../src/limits.ts';

const limits = DEFAULT_CLIENT_LIMITS;

describe('message content', () => {
  it('round-trips every kind', () => {
    const samples: Content[] = [
      { t: 'text', id: 'abc', text: 'hi', sentAt: 1 },
      { t: 'text', id: 'abc', text: 'hi', sentAt: 1, group: 'g1', to: 'bob' },
      { t: 'receipt', ids: ['a', 'b'] },
      { t: 'typing', typing: true },
      { t: 'group', group: 'g1', name: 'team', members: ['alice', 'bob'], removed: [], senderKey: 'AAAA' },
      { t: 'sender_key', group: 'g1', distribution: 'AAAA' },
    ];
    for (const sample of samples) expect(decodeContent(encodeContent(sample), limits)).toEqual(sample);
  });

  it('pads to 160-byte blocks, so lengths leak only a size class', () => {
    const short = encodeContent({ t: 'text', id: 'a', text: 'hi', sentAt: 1 });
    const longer = encodeContent({ t: 'text', id: 'a', text: 'hi there, a little longer', sentAt: 1 });
    expect(short.length).toBe(160);
    expect(longer.length).toBe(160);
    expect(encodeContent({ t: 'text', id: 'a', text: 'x'.repeat(200), sentAt: 1 }).length).toBe(320);
    expect(() => decodeContent(new TextEncoder().encode('{"t":"typing","typing":true}'), limits)).toThrow(PulseError);
  });

  it('refuses hostile plaintext with BAD_INPUT, never anything else', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array(),
          fc.jsonValue().map((v) => new Uint8Array([...new TextEncoder().encode(JSON.stringify(v)), 0x80])),
        ),
        (bytes) => {
          try {
            decodeContent(bytes, limits);
          } catch (error) {
            expect(PulseError.is(error, 'BAD_INPUT')).toBe(true);
          }
        },
      ),
    );
    const long = encodeContent({ t: 'text', id: 'x', text: 'a'.repeat(limits.maxTextLength + 1), sentAt: 1 });
    expect(long.length % 160).toBe(0);
    expect(() => decodeContent(long, limits)).toThrow(PulseError);
  });

  it('payload framing round-trips and refuses unknown kinds', () => {
    const ct = new Uint8Array([1, 2, 3]);
    expect(parsePayload(sessionPayload(ct))).toEqual({ kind: 'session', ciphertext: ct });
    expect(parsePayload(groupPayload('g1', ct))).toEqual({ kind: 'group', groupId: 'g1', ciphertext: ct });
    for (const bad of [new Uint8Array(), Uint8Array.of(9, 1, 2), Uint8Array.of(2, 50, 1), Uint8Array.of(1)]) {
      expect(() => parsePayload(bad)).toThrow(PulseError);
    }
  });
});
