/**
 * Which requests become WebTransport sessions, and the answer every other
 * request gets: a pure decision over the parsed request head and the server's
 * state. The server edge applies it (writes the response, creates the session);
 * nothing here does I/O, so it runs, and is tested, anywhere.
 */
import type { RequestHead } from '../h3/message.ts';
import type { FieldLine } from '../qpack/field-section.ts';
import { parseAvailableProtocols, serializeSelectedProtocol } from './protocol-fields.ts';

export interface AcceptPolicy {
  /** Paths that accept sessions, compared without the query. */
  readonly paths: ReadonlySet<string>;
  /** Sessions one connection may hold at once; beyond, 429. */
  readonly maxSessionsPerConnection: number;
}

/** What a session request says about itself, as the application sees it. */
export interface SessionHead {
  /** The request path, query included. */
  readonly path: string;
  readonly authority: string;
  readonly origin?: string;
  /** Protocols the client offered (`wt-available-protocols`), most preferred first; [] when absent or ignored. */
  readonly protocols: string[];
}

/** Final statuses that refuse a request. */
export type RefusalStatus = 404 | 405 | 429 | 500 | 501;

/** Answer with `fields` (a final status, no body) and end the stream. */
export interface Refusal {
  readonly type: 'refuse';
  readonly status: RefusalStatus;
  readonly fields: FieldLine[];
}

/** A WebTransport session: hand `request` to the application, then answer with `acceptedResponse`. */
export interface Acceptance {
  readonly type: 'accept';
  readonly request: SessionHead;
}

export type AcceptDecision = Refusal | Acceptance;

export interface AcceptedResponse {
  readonly fields: FieldLine[];
  /** The negotiated protocol, '' when none. */
  readonly protocol: string;
}

/** A final status without a body: every request gets an answer, never a hang (RFC 9110 §15). */
export function refusal(status: RefusalStatus): Refusal {
  return {
    type: 'refuse',
    status,
    fields: [
      { name: ':status', value: String(status) },
      { name: 'content-length', value: '0' },
    ],
  };
}

/** The path without its query: what `AcceptPolicy.paths` lists. */
function resourceOf(path: string | undefined): string {
  return (path ?? '').split('?')[0] ?? '';
}

/** Decides what a request on a new request stream gets; `sessionCount` is the sessions its connection holds now. */
export function decideAccept(head: RequestHead, policy: AcceptPolicy, sessionCount: number): AcceptDecision {
  const resource = resourceOf(head.path);
  if (head.method !== 'CONNECT' || head.protocol !== 'webtransport') {
    // A CONNECT for anything but WebTransport (a tunnel, RFC 9114 §4.4, or another upgrade token,
    // RFC 9220 §3) asks for something this server does not implement: 501 (RFC 9110 §15.6.2).
    if (head.method === 'CONNECT') return refusal(501);
    // Another method on a WebTransport resource: 405 (RFC 9110 §15.5.6; no `allow` field is sent).
    // Anything else names no resource here: 404 (RFC 9110 §15.5.5).
    return refusal(policy.paths.has(resource) ? 405 : 404);
  }
  // An extended CONNECT for WebTransport (RFC 9220 §3, draft-ietf-webtrans-http3 §3.2) on a path that
  // serves none: the resource does not exist (RFC 9110 §15.5.5).
  if (!policy.paths.has(resource)) return refusal(404);
  // Too many sessions on this connection: 429 (draft-ietf-webtrans-http3-16 §5.2, RFC 6585 §4).
  if (sessionCount >= policy.maxSessionsPerConnection) return refusal(429);
  const origin = head.fields.get('origin');
  return {
    type: 'accept',
    request: {
      path: head.path ?? resource,
      authority: head.authority ?? '',
      protocols: parseAvailableProtocols(head.fields.get('wt-available-protocols')),
      ...(origin !== undefined ? { origin } : {}),
    },
  };
}

/**
 * The 2xx that establishes a session (draft-ietf-webtrans-http3 §3.2), with the
 * draft-02 confirmation Chromium expects. `chosen` is the application's pick: it
 * becomes `wt-protocol` only if the client offered it (draft-ietf-webtrans-http3-16
 * §3.3: the server's choice MUST come from the client's list); otherwise no
 * protocol is negotiated.
 */
export function acceptedResponse(offered: readonly string[], chosen: string | undefined): AcceptedResponse {
  const fields: FieldLine[] = [
    { name: ':status', value: '200' },
    { name: 'sec-webtransport-http3-draft', value: 'draft02' },
  ];
  if (chosen === undefined || !offered.includes(chosen)) return { fields, protocol: '' };
  fields.push({ name: 'wt-protocol', value: serializeSelectedProtocol(chosen) });
  return { fields, protocol: chosen };
}
