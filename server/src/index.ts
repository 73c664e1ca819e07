/**
 * @pulse/server: run a Pulse server in-process (tests, embedding). `npm start`
 * (src/main.ts) is the command-line entry; README.md documents configuration.
 */
export { ConfigError, DEFAULT_CONFIG, type LoadOptions, loadConfig, type ServerConfig } from './config/config.ts';
export { DEFAULT_LIMITS, type ServerLimits } from './config/limits.ts';
export { PulseError, type PulseErrorCode } from './errors.ts';
export { loadWebTransport } from './quic-loader.ts';
export { type Certificate, type ListeningInfo, PulseServer, type PulseServerOptions } from './server.ts';
export { SqliteStore } from './storage/sqlite-store.ts';
export type { Store } from './storage/store.ts';
export type { Connection, ConnectionAcceptor, ConnectionHandler, TransportKind } from './transport/connection.ts';
