import type { IncomingMessage, ServerResponse } from 'node:http';
import { PROTOCOL_VERSIONS } from '@pulse/proto';
import { WEBSOCKET_PATH } from '../transport/websocket.ts';
import type { WebClient } from './web-client.ts';

export const WEBTRANSPORT_PATH = '/pulse/wt';

export interface InfoSource {
  websocket: boolean;
  /** UDP port and certificate hash when WebTransport is listening. */
  webtransport: { port: number; certificateSha256: Uint8Array } | undefined;
  maxFrameBytes: number;
  maxMessageSize: number;
  /** The sealed-sender trust root's public key (PROTOCOL.md "Sealed sender"), for clients to pin. */
  sealedSenderTrustRoot?: Uint8Array | undefined;
  draining(): boolean;
  /** Whether the store can be used now (cluster mode: the NATS connection); absent: always. */
  store?(): { readonly available: boolean; readonly detail: string };
}

/**
 * The hostname the client used (Host header), for URLs it can reach again.
 * `localhost` becomes the address the request actually arrived on: browsers try
 * ::1 first and, unlike TCP, QUIC gets no fallback to 127.0.0.1.
 */
function hostOf(request: IncomingMessage): string {
  const header = request.headers.host ?? 'localhost';
  const ipv6 = /^\[([^\]]+)\]/.exec(header);
  const host = ipv6 ? `[${ipv6[1]}]` : header.replace(/:\d+$/, '');
  if (host !== 'localhost') return host;
  const local = request.socket.localAddress ?? '127.0.0.1';
  const address = local.startsWith('::ffff:') ? local.slice(7) : local;
  return address.includes(':') ? `[${address}]` : address;
}

/**
 * `GET /healthz`: 200 `ok`; 503 `draining` during shutdown, or 503 `store
 * unavailable: ...` while the store cannot be reached (cluster mode: NATS is
 * gone; sends are refused with UNAVAILABLE): load balancers stop sending.
 */
export function health(response: ServerResponse, info: Pick<InfoSource, 'draining' | 'store'>): void {
  const store = info.store?.();
  const body = info.draining()
    ? 'draining\n'
    : store !== undefined && !store.available
      ? `store unavailable: ${store.detail}\n`
      : 'ok\n';
  response.writeHead(body === 'ok\n' ? 200 : 503, { 'content-type': 'text/plain' }).end(body);
}

/** `GET /pulse/info`: what a client needs to connect (PROTOCOL.md "Transports"). */
export function pulseInfo(request: IncomingMessage, source: InfoSource): object {
  const host = hostOf(request);
  const httpHost = request.headers.host ?? host;
  return {
    protocolVersions: PROTOCOL_VERSIONS,
    websocket: source.websocket ? { url: `ws://${httpHost}${WEBSOCKET_PATH}` } : null,
    webtransport:
      source.webtransport === undefined
        ? null
        : {
            url: `https://${host}:${source.webtransport.port}${WEBTRANSPORT_PATH}`,
            serverCertificateHashes: [
              { algorithm: 'sha-256', value: Buffer.from(source.webtransport.certificateSha256).toString('base64') },
            ],
          },
    limits: { maxFrameBytes: source.maxFrameBytes, maxMessageSize: source.maxMessageSize },
    sealedSender:
      source.sealedSenderTrustRoot === undefined
        ? null
        : { trustRoot: Buffer.from(source.sealedSenderTrustRoot).toString('base64') },
  };
}

/**
 * The HTTP (TCP) side clients reach: health, connection info, the web client.
 * `/metrics` is not here: it is served by the metrics listener (metrics-listener.ts).
 */
export function httpHandler(web: WebClient, info: InfoSource) {
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    response.setHeader('x-content-type-options', 'nosniff');
    try {
      if (request.method === 'OPTIONS') {
        response.writeHead(204, {
          'access-control-allow-origin': '*',
          'access-control-allow-methods': 'GET, OPTIONS',
          'access-control-max-age': '600',
        });
        response.end();
        return;
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { allow: 'GET, HEAD, OPTIONS' }).end();
        return;
      }
      switch (url.pathname) {
        case '/healthz':
          health(response, info);
          return;
        case '/pulse/info': {
          response
            .writeHead(200, {
              'content-type': 'application/json',
              'access-control-allow-origin': '*',
              'cache-control': 'no-store',
            })
            .end(JSON.stringify(pulseInfo(request, info)));
          return;
        }
        default: {
          const file = await web.get(url.pathname);
          response.writeHead(file.status, { 'content-type': file.type }).end(file.body);
        }
      }
    } catch {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end('internal error\n');
    }
  };
}
