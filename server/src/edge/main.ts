/**
 * `npm start`: runs a Pulse server from the layered configuration
 * (defaults < TOML `--config FILE` / PULSE_CONFIG < PULSE_<SECTION>_<KEY>).
 */
import { parseArgs } from 'node:util';
import { xeddsaVerify } from '@pulse/crypto';
import { ConfigError, loadConfig } from './config/config.ts';
import { loadWebTransport } from './quic-loader.ts';
import { rotateTokenKeys, TokenKeysError, tokenKeysPath } from './secret.ts';
import { PulseServer } from './server.ts';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { config: { type: 'string', short: 'c' }, 'rotate-token-key': { type: 'boolean' } },
    strict: true,
  });
  const config = loadConfig({ file: values.config });
  if (values['rotate-token-key'] === true) {
    // A new token key for the next start; the old ones keep verifying their tokens until these expire.
    const path = tokenKeysPath(config);
    const key = rotateTokenKeys(path, Date.now(), config.limits.tokenTtl);
    console.log(`pulse: token key ${key.id} added to ${path}; restart the server to sign new tokens with it`);
    return;
  }
  const webtransport = config.transport.webtransport ? await loadWebTransport(config) : undefined;
  const server = new PulseServer({ config, verify: xeddsaVerify, webtransport });
  const listening = await server.start();

  const host = config.server.host;
  console.log(`pulse: http and websocket on http://${host}:${listening.httpPort} (ws path /pulse/ws)`);
  console.log(`pulse: metrics on http://${config.metrics.host}:${listening.metricsPort}/metrics`);
  if (listening.webtransportPort !== undefined && listening.certificateSha256 !== undefined) {
    const hash = Buffer.from(listening.certificateSha256);
    console.log(`pulse: webtransport on https://${host}:${listening.webtransportPort}/pulse/wt (udp)`);
    console.log(`pulse: certificate sha-256 ${hash.toString('hex')} (base64 ${hash.toString('base64')})`);
  } else {
    console.log('pulse: webtransport is off');
  }
  // Machine-readable line for scripts and tests that start the server with port 0.
  console.log(
    `PULSE_LISTENING ${JSON.stringify({
      httpPort: listening.httpPort,
      webtransportPort: listening.webtransportPort ?? null,
      metricsPort: listening.metricsPort,
    })}`,
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.log.info({ signal }, 'stopping: draining connections');
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        server.log.error({ err: error }, 'stop failed');
        process.exit(1);
      },
    );
  };
  // Last resort: the core guards its own timers and handlers (core/guarded-scheduler.ts), so
  // reaching these is a bug; one failed callback (a disk error in a store call) must not end
  // every user's connection, so it is logged and the server keeps serving.
  process.on('uncaughtException', (error) => server.log.error({ err: error }, 'uncaught exception (kept running)'));
  process.on('unhandledRejection', (reason) => server.log.error({ err: reason }, 'unhandled rejection (kept running)'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof TokenKeysError) {
    console.error(`pulse: ${error.message}`);
    process.exit(2);
  }
  console.error('pulse: failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
