import type { ServerConfig } from './config/config.ts';
import type { Certificate } from './server.ts';
import type { ListenWebTransport } from './transport/webtransport.ts';

type QuicModule = typeof import('@pulse/webtransport/node');

/**
 * Loads the HTTP/3 WebTransport layer (`@pulse/webtransport/node`, Node-only, with a
 * native QUIC binding) and the certificate: `[tls] cert, key` when configured,
 * else the development certificate kept in the data directory (renewed before
 * it expires). Loading lazily keeps a WebSocket-only server free of the native
 * module; if it cannot load, the server says so and starts without WebTransport.
 */
export async function loadWebTransport(
  config: ServerConfig,
): Promise<{ listen: ListenWebTransport; certificate: Certificate } | undefined> {
  let quic: QuicModule;
  try {
    quic = await import('@pulse/webtransport/node');
  } catch (error) {
    console.warn(`pulse: WebTransport unavailable (${(error as Error).message.split('\n')[0]})`);
    return undefined;
  }
  const certificate =
    config.tls.cert !== '' || config.tls.key !== ''
      ? await quic.loadCertificateFiles(config.tls.cert, config.tls.key)
      : await quic.loadOrCreateDevCertificate(config.storage.path);
  const listen: ListenWebTransport = (options) => quic.listenWebTransport(options);
  return { listen, certificate };
}
