import type { IncomingMessage, ServerResponse } from 'node:http';
import { PROTOCOL_VERSIONS } from '@pulse/proto';
import type { PrometheusMetrics } from '../metrics.ts';
import { WEBSOCKET_PATH } from '../transport/websocket.ts';
import type { WebClient } from './web-client.ts';

export const WEBTRANSPORT_PATH = '/pulse/wt';

export interface InfoSource {
  websocket: boolean;
  /** UDP port and certificate hash when WebTransport is listening. */
  webtransport: { port: number; certificateSha256: Uint8Array } | undefined;
  maxFrameBytes: number;
  maxMessageSize: number;
  draining(): boolean;
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
  };
}

/** The HTTP (TCP) side: health, metrics, connection info, the web client. */
export function httpHandler(metrics: PrometheusMetrics, web: WebClient, info: InfoSource) {
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
        case '/healthz': {
          const draining = info.draining();
          response
            .writeHead(draining ? 503 : 200, { 'content-type': 'text/plain' })
            .end(draining ? 'draining\n' : 'ok\n');
          return;
        }
        case '/metrics': {
          const body = await metrics.registry.metrics();
          response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body);
          return;
        }
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
