/**
 * The metrics listener (`[metrics] host`, `port`, `token`): `/metrics`
 * (Prometheus text) and `/healthz`, on a listener of their own, by default on
 * 127.0.0.1 only: counters of refusals, connections and traffic are for the
 * operator, not for every client of the public port (issue 11). With a token
 * configured, `/metrics` also needs `Authorization: Bearer <token>` (for a
 * listener that must be reachable from a network).
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PrometheusMetrics } from '../metrics.ts';
import { health, type InfoSource } from './routes.ts';

export interface MetricsListener {
  readonly port: number;
  close(): Promise<void>;
}

/** True when the request carries `Authorization: Bearer <token>` (compared in constant time). */
function authorized(request: IncomingMessage, token: string): boolean {
  if (token === '') return true;
  const presented = Buffer.from(request.headers.authorization ?? '');
  const expected = Buffer.from(`Bearer ${token}`);
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

export function metricsHandler(
  metrics: PrometheusMetrics,
  info: Pick<InfoSource, 'draining' | 'store'>,
  token: string,
) {
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    try {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { allow: 'GET, HEAD' }).end();
      } else if (path === '/healthz') {
        health(response, info);
      } else if (path !== '/metrics') {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      } else if (!authorized(request, token)) {
        response.writeHead(401, { 'www-authenticate': 'Bearer', 'content-type': 'text/plain' }).end('unauthorized\n');
      } else {
        const body = await metrics.registry.metrics();
        response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body);
      }
    } catch {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end('internal error\n');
    }
  };
}

export async function listenMetrics(
  options: { host: string; port: number; token: string },
  metrics: PrometheusMetrics,
  info: Pick<InfoSource, 'draining' | 'store'>,
): Promise<MetricsListener> {
  const server: Server = createServer(metricsHandler(metrics, info, options.token));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
