/**
 * @pulse/testing (dev only): Pulse's test harness.
 *
 * - In-memory connections (MemoryConnection: the server's `Connection` on one
 *   end, the SDK's `FrameTransport` on the other) and an in-process server
 *   (InProcessServer: a real PulseNode on a temporary SQLite file, no listeners)
 *   for behaviour tests; ListeningServer (the whole server in this process on
 *   127.0.0.1) and `spawnServer` (the real server process) on real sockets.
 * - A bare protocol client (FrameClient, with `register`/`reconnect`/`linkDevice`
 *   for whole devices) for looking at the wire, over an in-memory connection,
 *   `dialWebSocket` or `dialWebTransport` (also `@pulse/testing/protocol`,
 *   browser-safe, with wires over a browser's own WebSocket and WebTransport).
 * - Shared suites: the StateVault contract (every vault, in Node and in real
 *   browsers) and the client transport contract (every transport).
 * - Browsers (also `@pulse/testing/browsers`, which loads no Pulse package):
 *   Chromium (playwright-core) and Firefox (puppeteer-core) behind one page API.
 * - Bundles: a page script (`bundleForBrowser`) and a Node program
 *   (`bundleNodeProgram`, to spawn without tsx's start-up cost).
 * - Source checks (`@pulse/testing/source`): the `.ts` files of a folder and the
 *   modules each imports, for the architecture tests.
 */
export * from './browsers/index.ts';
export { bundleNodeProgram, type NodeBundle, type NodeBundleOptions } from './bundle/node-bundle.ts';
export { dialWebSocket } from './dial/websocket.ts';
export { dialWebTransport } from './dial/webtransport.ts';
export { type MemoryCloseState, MemoryConnection, type MemoryConnectionOptions } from './memory/memory-connection.ts';
export * from './protocol/index.ts';
export { REPO_ROOT } from './repo.ts';
export { type ExitStatus, type ServerProcess, type SpawnServerOptions, spawnServer } from './server/child-server.ts';
export { InProcessServer, type InProcessServerOptions } from './server/in-process-server.ts';
export { ListeningServer, type ListeningServerOptions } from './server/listening-server.ts';
export type { TestServerOptions } from './server/test-config.ts';
export { TEST_LIMITS } from './server/test-limits.ts';
export { type TransportUnderTest, transportSuite } from './suites/transport-suite.ts';
export {
  runVaultCases,
  VAULT_CASES,
  type VaultCase,
  type VaultStorage,
  type Verdict,
} from './suites/vault-cases.ts';
export { browserVaultSuites, vaultSuite } from './suites/vault-suite.ts';
