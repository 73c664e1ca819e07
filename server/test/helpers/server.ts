import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { xeddsaVerify } from '@pulse/crypto';
import pino from 'pino';
import { loadConfig } from '../../src/edge/config/config.ts';
import { PulseServer, type PulseServerOptions } from '../../src/edge/server.ts';

export interface TestServer {
  readonly server: PulseServer;
  readonly httpPort: number;
  readonly webtransportPort: number | undefined;
  readonly dataDir: string;
  stop(): Promise<void>;
}

/**
 * A real server on 127.0.0.1 with port 0 and a fresh SQLite file in a temp
 * directory. `overrides` use the config's camelCase names by section.
 */
export async function startTestServer(
  overrides: Record<string, Record<string, unknown>> = {},
  extra: Partial<PulseServerOptions> = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pulse-server-test-'));
  const config = loadConfig({
    env: {},
    overrides: {
      server: { host: '127.0.0.1', port: 0 },
      storage: { path: dataDir },
      web: { root: join(dataDir, 'no-web'), entry: '' },
      transport: { webtransportPort: 0 },
      ...overrides,
    },
  });
  const server = new PulseServer({ config, verify: xeddsaVerify, logger: pino({ level: 'silent' }), ...extra });
  const listening = await server.start();
  return {
    server,
    httpPort: listening.httpPort,
    webtransportPort: listening.webtransportPort,
    dataDir,
    async stop() {
      await server.stop(200);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
