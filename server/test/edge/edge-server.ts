import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { xeddsaVerify } from '@pulse/crypto';
import { createDevCertificate } from '@pulse/webtransport/node';
import pino, { type Logger } from 'pino';
import { loadConfig } from '../../src/edge/config/config.ts';
import { PulseServer } from '../../src/edge/server.ts';

/** A PulseServer on 127.0.0.1 (free ports) with config sections the test sets, e.g. `server` bounds. */
export interface EdgeServer {
  readonly server: PulseServer;
  readonly httpPort: number;
  readonly webtransportPort: number | undefined;
  readonly metricsPort: number;
  readonly certificateSha256: Uint8Array | undefined;
  metrics(headers?: Record<string, string>): Promise<string>;
  stop(): Promise<void>;
}

export async function startEdgeServer(
  sections: Record<string, Record<string, unknown>>,
  options: { webtransport?: boolean; logger?: Logger } = {},
): Promise<EdgeServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pulse-edge-'));
  const config = loadConfig({
    env: {},
    overrides: {
      ...sections,
      server: { host: '127.0.0.1', port: 0, ...sections.server },
      transport: { webtransportPort: 0, webtransport: options.webtransport === true },
      metrics: { port: 0, ...sections.metrics },
      storage: { path: dataDir },
      web: { root: join(dataDir, 'no-web'), entry: '' },
    },
  });
  const webtransport =
    options.webtransport === true
      ? {
          listen: (await import('@pulse/webtransport/node')).listenWebTransport,
          certificate: await createDevCertificate(),
        }
      : undefined;
  const server = new PulseServer({
    config,
    verify: xeddsaVerify,
    logger: options.logger ?? pino({ level: 'silent' }),
    webtransport,
  });
  const listening = await server.start();
  return {
    server,
    httpPort: listening.httpPort,
    webtransportPort: listening.webtransportPort,
    metricsPort: listening.metricsPort,
    certificateSha256: listening.certificateSha256,
    async metrics(headers = {}) {
      return (await fetch(`http://127.0.0.1:${listening.metricsPort}/metrics`, { headers })).text();
    },
    async stop() {
      await server.stop(100);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
