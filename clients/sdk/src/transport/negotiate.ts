import { DEFAULT_PROTO_LIMITS, PROTOCOL_VERSIONS } from '@pulse/proto';
import { PulseError } from '../errors.ts';
import type { ClientLimits } from '../limits.ts';
import { fetchServerInfo, type ServerInfo } from '../server-info.ts';
import type {
  FrameTransport,
  TransportEvents,
  TransportFactories,
  TransportKind,
  TransportPreference,
} from './types.ts';
import { openWebSocket } from './websocket.ts';
import { openWebTransport } from './webtransport.ts';

/** What worked last time, per server, so a blocked WebTransport does not cost its timeout on every reconnect. */
export interface TransportMemory {
  get(server: string): { kind: TransportKind; at: number } | undefined;
  set(server: string, entry: { kind: TransportKind; at: number }): void;
}

export function inMemoryTransportMemory(): TransportMemory {
  const entries = new Map<string, { kind: TransportKind; at: number }>();
  return { get: (server) => entries.get(server), set: (server, entry) => void entries.set(server, entry) };
}

/**
 * What the server offers: `GET /pulse/info`, except over a direct transport,
 * which has no URL to look up and nothing to choose between.
 */
export function serverInfo(server: string, factories: TransportFactories, limits: ClientLimits): Promise<ServerInfo> {
  if (factories.direct !== undefined) {
    return Promise.resolve({ versions: PROTOCOL_VERSIONS, webTransport: undefined, webSocket: undefined });
  }
  return fetchServerInfo(server, limits);
}

/**
 * The order in which to try transports: WebTransport first when the runtime
 * and the server offer it, unless it failed for this server recently (then
 * WebSocket first, WebTransport after); an explicit preference tries only that one.
 */
export function transportOrder(
  preference: TransportPreference,
  info: ServerInfo,
  factories: TransportFactories,
  remembered: { kind: TransportKind; at: number } | undefined,
  now: number,
  limits: ClientLimits,
): TransportKind[] {
  if (factories.direct !== undefined) return [factories.direct.kind];
  const offered: TransportKind[] = [];
  if (info.webTransport !== undefined && factories.webTransport !== undefined) offered.push('webtransport');
  if (info.webSocket !== undefined && factories.webSocket !== undefined) offered.push('websocket');
  if (preference !== 'auto') return offered.filter((kind) => kind === preference);
  const recentFallback =
    remembered?.kind === 'websocket' && now - remembered.at < limits.transportMemoryMs && offered.length === 2;
  return recentFallback ? ['websocket'] : offered;
}

/** Opens the first transport in `order` that connects; the error of the last one otherwise. */
export async function openFirst(
  order: readonly TransportKind[],
  info: ServerInfo,
  factories: TransportFactories,
  limits: ClientLimits,
  events: TransportEvents,
): Promise<FrameTransport> {
  if (order.length === 0) {
    throw new PulseError('TRANSPORT_UNAVAILABLE', 'no transport offered by the server is available in this runtime');
  }
  if (factories.direct !== undefined) {
    try {
      return factories.direct.open(events);
    } catch (cause) {
      throw new PulseError('SERVER_UNREACHABLE', `direct transport failed: ${String(cause)}`, { cause });
    }
  }
  let lastError: unknown;
  for (const kind of order) {
    try {
      if (kind === 'webtransport' && info.webTransport !== undefined && factories.webTransport !== undefined) {
        return await openWebTransport(
          factories.webTransport,
          info.webTransport.url,
          info.webTransport.certificateHashes,
          { timeoutMs: limits.webTransportTimeoutMs, maxFrameBytes: DEFAULT_PROTO_LIMITS.maxFrameBytes },
          events,
        );
      }
      if (kind === 'websocket' && info.webSocket !== undefined && factories.webSocket !== undefined) {
        return await openWebSocket(factories.webSocket, info.webSocket.url, limits.webSocketTimeoutMs, events);
      }
    } catch (error) {
      lastError = error;
    }
  }
  if (PulseError.is(lastError)) throw lastError;
  throw new PulseError('SERVER_UNREACHABLE', `no transport connected: ${String(lastError)}`, { cause: lastError });
}
