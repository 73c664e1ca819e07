/**
 * HTTP message checks (RFC 9114 §4.3, RFC 9220 §3): pseudo-header rules and the
 * request/response heads the WebTransport layer needs. A malformed message is a
 * stream error H3_MESSAGE_ERROR (RFC 9114 §4.1.2).
 */
import type { FieldLine } from '../qpack/field-section.ts';
import { H3Error } from './errors.ts';

export interface RequestHead {
  readonly method: string;
  readonly scheme: string | undefined;
  readonly authority: string | undefined;
  readonly path: string | undefined;
  /** RFC 9220 extended CONNECT: `webtransport` for WebTransport sessions. */
  readonly protocol: string | undefined;
  /** Regular fields, lowercase names; repeated fields joined with ", ". */
  readonly fields: ReadonlyMap<string, string>;
}

export interface ResponseHead {
  readonly status: number;
  readonly fields: ReadonlyMap<string, string>;
}

const REQUEST_PSEUDO = new Set([':method', ':scheme', ':authority', ':path', ':protocol']);

function malformed(message: string, streamId: number): never {
  throw new H3Error('H3_MESSAGE_ERROR', message, 'stream', streamId);
}

function splitFields(
  lines: readonly FieldLine[],
  allowedPseudo: ReadonlySet<string>,
  streamId: number,
): { pseudo: Map<string, string>; fields: Map<string, string> } {
  const pseudo = new Map<string, string>();
  const fields = new Map<string, string>();
  for (const { name, value } of lines) {
    if (name.length === 0 || name !== name.toLowerCase()) malformed(`invalid field name "${name}"`, streamId);
    if (name.startsWith(':')) {
      if (fields.size > 0) malformed('pseudo-header after regular fields', streamId);
      if (!allowedPseudo.has(name)) malformed(`unknown pseudo-header ${name}`, streamId);
      if (pseudo.has(name)) malformed(`duplicate pseudo-header ${name}`, streamId);
      pseudo.set(name, value);
    } else {
      // Connection-specific fields are forbidden in HTTP/3 (RFC 9114 §4.2).
      if (name === 'connection' || name === 'transfer-encoding' || name === 'upgrade' || name === 'keep-alive') {
        malformed(`connection-specific field ${name}`, streamId);
      }
      const previous = fields.get(name);
      fields.set(name, previous === undefined ? value : `${previous}, ${value}`);
    }
  }
  return { pseudo, fields };
}

export function parseRequestHead(lines: readonly FieldLine[], streamId: number): RequestHead {
  const { pseudo, fields } = splitFields(lines, REQUEST_PSEUDO, streamId);
  const method = pseudo.get(':method');
  if (method === undefined) malformed('missing :method', streamId);
  const protocol = pseudo.get(':protocol');
  if (method === 'CONNECT') {
    if (protocol === undefined) {
      // Classic CONNECT (RFC 9114 §4.4): only :method and :authority.
      if (pseudo.has(':scheme') || pseudo.has(':path') || !pseudo.has(':authority')) {
        malformed('malformed CONNECT request', streamId);
      }
    } else if (!pseudo.has(':scheme') || !pseudo.has(':path') || !pseudo.has(':authority')) {
      malformed('extended CONNECT needs :scheme, :path and :authority', streamId);
    }
  } else {
    if (protocol !== undefined) malformed(':protocol on a non-CONNECT request', streamId);
    if (!pseudo.has(':scheme') || !pseudo.get(':path')) malformed('missing :scheme or :path', streamId);
  }
  return {
    method,
    scheme: pseudo.get(':scheme'),
    authority: pseudo.get(':authority'),
    path: pseudo.get(':path'),
    protocol,
    fields,
  };
}

export function parseResponseHead(lines: readonly FieldLine[], streamId: number): ResponseHead {
  const { pseudo, fields } = splitFields(lines, new Set([':status']), streamId);
  const status = Number(pseudo.get(':status'));
  if (!Number.isInteger(status) || status < 100 || status > 999) malformed('missing or invalid :status', streamId);
  return { status, fields };
}
