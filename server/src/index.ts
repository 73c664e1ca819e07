/**
 * @pulse/server: run a Pulse server in-process (tests, embedding). `npm start`
 * (src/edge/main.ts) is the command-line entry; README.md documents configuration.
 *
 * - PulseServer: listeners (HTTP, WebSocket, WebTransport) around a PulseNode.
 * - PulseNode: the server without listeners (core + SQLite + metrics + timers);
 *   hand it connections through `accept`, e.g. in-memory ones in tests.
 * - PulseCore: the sans-I/O core, for other runtimes (bring every port).
 */

export type { SignatureVerifier } from './core/auth/verifier.ts';
export type {
  Connection,
  ConnectionAcceptor,
  ConnectionHandler,
  TransportKind,
} from './core/connection.ts';
export { UNKNOWN_ADDRESS } from './core/connection.ts';
export { PulseError, type PulseErrorCode } from './core/errors.ts';
export { DEFAULT_LIMITS, type ServerLimits } from './core/limits/limits.ts';
export type { Clock } from './core/ports/clock.ts';
export type { Logger } from './core/ports/logger.ts';
export type { MacKeyring, MessageAuthenticator } from './core/ports/mac.ts';
export type { EnvelopeEvent, Metrics, Traffic } from './core/ports/metrics.ts';
export type { RandomSource } from './core/ports/random.ts';
export type { Cancel, Scheduler } from './core/ports/scheduler.ts';
export { type CorePorts, PulseCore } from './core/pulse-core.ts';
export type { CoreSettings } from './core/settings.ts';
export { type Store, StoreConflict } from './core/store.ts';
export { ConfigError, DEFAULT_CONFIG, type LoadOptions, loadConfig, type ServerConfig } from './edge/config/config.ts';
export { PrometheusMetrics } from './edge/metrics.ts';
export { PulseNode, type PulseNodeOptions } from './edge/node.ts';
export { loadWebTransport } from './edge/quic-loader.ts';
export { type Certificate, type ListeningInfo, PulseServer, type PulseServerOptions } from './edge/server.ts';
export { SqliteStore } from './edge/storage/sqlite-store.ts';
