/**
 * @pulse/server: run a Pulse server in-process (tests, embedding). `npm start`
 * (src/main.ts) is the command-line entry; README.md documents configuration.
 */

export type { Connection, ConnectionAcceptor, ConnectionHandler, TransportKind } from './core/connection.ts';
export { PulseError, type PulseErrorCode } from './core/errors.ts';
export type { Store } from './core/store.ts';
export { ConfigError, DEFAULT_CONFIG, type LoadOptions, loadConfig, type ServerConfig } from './edge/config/config.ts';
export { DEFAULT_LIMITS, type ServerLimits } from './edge/config/limits.ts';
export { loadWebTransport } from './edge/quic-loader.ts';
export { type Certificate, type ListeningInfo, PulseServer, type PulseServerOptions } from './edge/server.ts';
export { SqliteStore } from './edge/storage/sqlite-store.ts';
