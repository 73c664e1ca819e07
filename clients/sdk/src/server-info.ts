import { PulseError } from './errors.ts';
import type { ClientLimits } from './limits.ts';

/** What `GET /pulse/info` tells a client (server/README.md "HTTP endpoints"). */
export interface ServerInfo {
  readonly versions: readonly number[];
  readonly webTransport: { readonly url: string; readonly certificateHashes: readonly Uint8Array[] } | undefined;
  readonly webSocket: { readonly url: string } | undefined;
  /** The sealed-sender trust root (33 bytes) the server publishes (PROTOCOL.md "Sealed sender"), if any. */
  readonly sealedSenderTrustRoot?: Uint8Array | undefined;
}

/** Fetches and validates the server description. `baseUrl` is e.g. `http://127.0.0.1:8080`. */
export async function fetchServerInfo(baseUrl: string, limits: ClientLimits): Promise<ServerInfo> {
  const url = new URL('/pulse/info', baseUrl);
  let text: string;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(limits.infoTimeoutMs) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    text = await response.text();
  } catch (cause) {
    throw new PulseError('SERVER_UNREACHABLE', `cannot reach the Pulse server at ${baseUrl}: ${message(cause)}`, {
      cause,
    });
  }
  if (text.length > limits.maxInfoBytes) throw new PulseError('BAD_SERVER_INFO', '/pulse/info answer is too large');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new PulseError('BAD_SERVER_INFO', `${url.href} did not answer JSON: is this a Pulse server?`, { cause });
  }
  return parseServerInfo(json, baseUrl);
}

/** Validates a decoded `/pulse/info` body. Relative URLs resolve against `baseUrl`. */
export function parseServerInfo(json: unknown, baseUrl: string): ServerInfo {
  if (!isRecord(json)) throw new PulseError('BAD_SERVER_INFO', '/pulse/info is not a JSON object');
  const versionsField = json.versions ?? json.protocolVersions;
  const versions = Array.isArray(versionsField) ? versionsField.filter((v) => Number.isSafeInteger(v)) : [];
  if (versions.length === 0) throw new PulseError('BAD_SERVER_INFO', '/pulse/info names no protocol versions');

  const wt = json.webtransport ?? json.webTransport;
  let webTransport: ServerInfo['webTransport'];
  if (isRecord(wt) && typeof wt.url === 'string') {
    const hashes = Array.isArray(wt.serverCertificateHashes) ? wt.serverCertificateHashes : [];
    const certificateHashes: Uint8Array[] = [];
    for (const hash of hashes) {
      if (isRecord(hash) && hash.algorithm === 'sha-256' && typeof hash.value === 'string') {
        const bytes = fromBase64(hash.value);
        if (bytes?.length === 32) certificateHashes.push(bytes);
      }
    }
    webTransport = { url: resolveUrl(wt.url, baseUrl, 'https:'), certificateHashes };
  }

  const ws = json.websocket ?? json.webSocket;
  let webSocket: ServerInfo['webSocket'];
  if (isRecord(ws) && typeof ws.url === 'string') webSocket = { url: resolveUrl(ws.url, baseUrl, undefined) };
  else if (typeof ws === 'string') webSocket = { url: resolveUrl(ws, baseUrl, undefined) };
  if (webTransport === undefined && webSocket === undefined) {
    throw new PulseError('BAD_SERVER_INFO', '/pulse/info offers neither WebTransport nor WebSocket');
  }
  return { versions, webTransport, webSocket, sealedSenderTrustRoot: trustRootOf(json.sealedSender) };
}

/** `sealedSender.trustRoot`: base64 of a 33-byte Curve25519 key (0x05 prefix); anything else is none. */
function trustRootOf(field: unknown): Uint8Array | undefined {
  if (!isRecord(field) || typeof field.trustRoot !== 'string') return undefined;
  const key = fromBase64(field.trustRoot);
  return key?.length === 33 && key[0] === 0x05 ? key : undefined;
}

function resolveUrl(url: string, baseUrl: string, forceProtocol: string | undefined): string {
  let resolved: URL;
  try {
    resolved = new URL(url, baseUrl);
  } catch (cause) {
    throw new PulseError('BAD_SERVER_INFO', `/pulse/info holds a bad URL ${JSON.stringify(url)}`, { cause });
  }
  if (forceProtocol === undefined && (resolved.protocol === 'http:' || resolved.protocol === 'https:')) {
    resolved.protocol = resolved.protocol === 'https:' ? 'wss:' : 'ws:';
  }
  return resolved.href;
}

function fromBase64(text: string): Uint8Array | undefined {
  try {
    const binary = atob(text);
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function message(cause: unknown): string {
  if (cause instanceof Error) {
    const inner = cause.cause instanceof Error ? ` (${cause.cause.message})` : '';
    return `${cause.message}${inner}`;
  }
  return String(cause);
}
