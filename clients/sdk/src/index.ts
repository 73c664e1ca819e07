/**
 * @pulse/sdk — the Pulse client library. Browser-safe: nothing here imports a
 * Node module; Node-only parts (ws, the QUIC WebTransport client, the profile
 * directory) live behind `@pulse/sdk/node` (src/node.ts).
 */

export {
  type ChannelPosition,
  type ClientEvents,
  DEFAULT_SERVER,
  type DeviceInfo,
  type EncryptedChannelRecord,
  type LinkRequest,
  type ListedDevice,
  newEncryptedChannelName,
  PulseClient,
  type PulseClientOptions,
  type SafetyNumber,
} from './client.ts';
export { backoffDelay } from './connection/backoff.ts';
export type { ConnectionState, ConnectionStatus } from './connection/connection.ts';
export { ConversationId, type ConversationKey } from './conversation-id.ts';
export { CryptoEngine } from './e2e/crypto-engine.ts';
export type { DeviceAddress, E2EEngine, E2EEngineFactory } from './e2e/engine.ts';
export { CLIENT_ERROR_CODES, type ClientErrorCode, PulseError, type PulseErrorCode } from './errors.ts';
export { type ClientLimits, clientLimits, DEFAULT_CLIENT_LIMITS } from './limits.ts';
export type { ContactRecord, GroupRecord, StoredMessage } from './profile.ts';
export { fetchServerInfo, parseServerInfo, type ServerInfo } from './server-info.ts';
export { IndexedDbVault } from './store/indexeddb-vault.ts';
export { MemoryVault, type StateVault } from './store/vault.ts';
export type {
  DirectTransport,
  FrameTransport,
  TransportEvents,
  TransportFactories,
  TransportKind,
  TransportPreference,
  WebSocketLike,
  WebTransportLike,
} from './transport/types.ts';

import type { TransportFactories, WebSocketLike, WebTransportFactory } from './transport/types.ts';

/** The browser's own transports: native WebTransport (when present) and WebSocket. */
export function browserTransportFactories(options: { webTransport?: boolean } = {}): TransportFactories {
  const NativeWebTransport = (globalThis as { WebTransport?: typeof WebTransport }).WebTransport;
  const webTransport: WebTransportFactory | undefined =
    options.webTransport === false || NativeWebTransport === undefined
      ? undefined
      : (url, init) =>
          new NativeWebTransport(url, {
            serverCertificateHashes: (init.serverCertificateHashes ?? []).map((h) => ({
              algorithm: h.algorithm,
              value: new Uint8Array(h.value),
            })),
          }) as unknown as ReturnType<WebTransportFactory>;
  return {
    webSocket: (url) => new WebSocket(url) as unknown as WebSocketLike,
    ...(webTransport === undefined ? {} : { webTransport }),
  };
}
