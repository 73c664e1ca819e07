/**
 * The accept policy: every request head gets exactly one decision, a final
 * status or a session, and an accepted session's response carries the protocol
 * only when the client offered it. Sections: RFC 9110 §15 (statuses), RFC 9220
 * §3 (extended CONNECT), draft-ietf-webtrans-http3-16 §3.2 (sessions), §3.3
 * (protocol negotiation), §5.2 (429 for too many sessions).
 */
import { describe, expect, it } from 'vitest';
import { parseRequestHead, type RequestHead } from '../../src/h3/message.ts';
import type { FieldLine } from '../../src/qpack/field-section.ts';
import {
  type AcceptPolicy,
  acceptedResponse,
  decideAccept,
  type RefusalStatus,
  refusal,
} from '../../src/webtransport/accept-policy.ts';

const policy: AcceptPolicy = { paths: new Set(['/echo', '/chat']), maxSessionsPerConnection: 2 };

/** A request head as the server parses it from field lines (so every head here is well-formed). */
function head(method: string, pseudo: Record<string, string>, fields: FieldLine[] = []): RequestHead {
  const lines: FieldLine[] = [{ name: ':method', value: method }];
  for (const [name, value] of Object.entries(pseudo)) lines.push({ name: `:${name}`, value });
  return parseRequestHead([...lines, ...fields], 0);
}

const webTransport = (path: string, fields: FieldLine[] = []): RequestHead =>
  head('CONNECT', { protocol: 'webtransport', scheme: 'https', authority: 'example.org', path }, fields);

describe('decideAccept', () => {
  const refusals: [string, RequestHead, number, RefusalStatus][] = [
    // RFC 9110 §15.6.2: CONNECT for a tunnel (RFC 9114 §4.4) or another upgrade token (RFC 9220 §3) is not implemented.
    ['a classic CONNECT', head('CONNECT', { authority: 'example.org:443' }), 0, 501],
    [
      'an extended CONNECT for websocket',
      head('CONNECT', { protocol: 'websocket', scheme: 'https', authority: 'example.org', path: '/echo' }),
      0,
      501,
    ],
    // RFC 9110 §15.5.6: a WebTransport resource does not take other methods.
    ['GET on a WebTransport path', head('GET', { scheme: 'https', authority: 'example.org', path: '/echo' }), 0, 405],
    [
      'POST on a WebTransport path with a query',
      head('POST', { scheme: 'https', authority: 'example.org', path: '/chat?room=1' }),
      0,
      405,
    ],
    // RFC 9110 §15.5.5: no such resource here.
    ['GET on another path', head('GET', { scheme: 'https', authority: 'example.org', path: '/' }), 0, 404],
    ['a WebTransport CONNECT on another path', webTransport('/nope'), 0, 404],
    ['a WebTransport CONNECT on a path prefix', webTransport('/echo/more'), 0, 404],
    // draft-ietf-webtrans-http3-16 §5.2, RFC 6585 §4: rate limiting by sessions per connection.
    ['a WebTransport CONNECT beyond the session limit', webTransport('/echo'), 2, 429],
    ['a WebTransport CONNECT far beyond the session limit', webTransport('/echo'), 5, 429],
  ];
  for (const [name, request, sessions, status] of refusals) {
    it(`answers ${status} to ${name}`, () => {
      const decision = decideAccept(request, policy, sessions);
      expect(decision).toEqual({
        type: 'refuse',
        status,
        fields: [
          { name: ':status', value: String(status) },
          { name: 'content-length', value: '0' },
        ],
      });
    });
  }

  const accepted: [string, RequestHead, number, object][] = [
    [
      'a WebTransport CONNECT below the limit',
      webTransport('/echo', [{ name: 'origin', value: 'https://example.org' }]),
      1,
      { path: '/echo', authority: 'example.org', origin: 'https://example.org', protocols: [] },
    ],
    [
      'a WebTransport CONNECT with a query (matched without it, kept for the application)',
      webTransport('/chat?room=7'),
      0,
      { path: '/chat?room=7', authority: 'example.org', protocols: [] },
    ],
    [
      'offered protocols, in order',
      webTransport('/echo', [{ name: 'wt-available-protocols', value: '"chat-v2", "chat-v1";q=1' }]),
      0,
      { path: '/echo', authority: 'example.org', protocols: ['chat-v2', 'chat-v1'] },
    ],
    [
      'offered protocols over two field lines',
      webTransport('/echo', [
        { name: 'wt-available-protocols', value: '"chat-v2"' },
        { name: 'wt-available-protocols', value: '"chat-v1"' },
      ]),
      0,
      { path: '/echo', authority: 'example.org', protocols: ['chat-v2', 'chat-v1'] },
    ],
    [
      'a malformed offer, ignored (draft §3.3)',
      webTransport('/echo', [{ name: 'wt-available-protocols', value: 'chat-v2, chat-v1' }]),
      0,
      { path: '/echo', authority: 'example.org', protocols: [] },
    ],
  ];
  for (const [name, request, sessions, expected] of accepted) {
    it(`accepts ${name}`, () => {
      expect(decideAccept(request, policy, sessions)).toEqual({ type: 'accept', request: expected });
    });
  }

  it('leaves origin out when the request has none (not an empty string)', () => {
    const decision = decideAccept(webTransport('/echo'), policy, 0);
    expect(decision.type === 'accept' && 'origin' in decision.request).toBe(false);
  });
});

describe('acceptedResponse', () => {
  const base = [
    { name: ':status', value: '200' },
    { name: 'sec-webtransport-http3-draft', value: 'draft02' },
  ];
  const cases: [string, string[], string | undefined, FieldLine[], string][] = [
    ['no offer and no choice', [], undefined, base, ''],
    ['an offer the application did not choose from', ['a', 'b'], undefined, base, ''],
    ['a choice among the offer', ['a', 'b'], 'b', [...base, { name: 'wt-protocol', value: '"b"' }], 'b'],
    ['a choice the client did not offer (draft §3.3: not sent)', ['a', 'b'], 'c', base, ''],
    ['a choice without any offer', [], 'a', base, ''],
    [
      'a choice that needs escaping',
      ['say "hi"'],
      'say "hi"',
      [...base, { name: 'wt-protocol', value: '"say \\"hi\\""' }],
      'say "hi"',
    ],
  ];
  for (const [name, offered, chosen, fields, protocol] of cases) {
    it(`answers ${name}`, () => {
      expect(acceptedResponse(offered, chosen)).toEqual({ fields, protocol });
    });
  }
});

describe('refusal', () => {
  it('is a final status without a body, e.g. 500 when the application throws', () => {
    expect(refusal(500)).toEqual({
      type: 'refuse',
      status: 500,
      fields: [
        { name: ':status', value: '500' },
        { name: 'content-length', value: '0' },
      ],
    });
  });
});
