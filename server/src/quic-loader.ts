import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ServerConfig } from './config/config.ts';
import type { Certificate } from './server.ts';
import type { ListenWebTransport } from './transport/webtransport.ts';

interface QuicModule {
  listenWebTransport: ListenWebTransport;
  loadOrCreateDevCertificate(dataDir: string): Promise<Certificate> | Certificate;
}

/**
 * Loads the HTTP/3 WebTransport layer (`@pulse/proto/quic`, Node-only) and the
 * certificate: `[tls] cert, key` when configured, else the development
 * certificate kept in the data directory. Returns undefined, with a warning,
 * when the layer is unavailable, so the WebSocket side still starts.
 */
export async function loadWebTransport(
  config: ServerConfig,
): Promise<{ listen: ListenWebTransport; certificate: Certificate } | undefined> {
  let quic: Partial<QuicModule>;
  try {
    const specifier = '@pulse/proto/quic';
    quic = (await import(specifier)) as Partial<QuicModule>;
  } catch (error) {
    console.warn(`pulse: WebTransport unavailable (${(error as Error).message.split('\n')[0]})`);
    return undefined;
  }
  if (typeof quic.listenWebTransport !== 'function') {
    console.warn('pulse: WebTransport unavailable (@pulse/proto/quic has no listenWebTransport)');
    return undefined;
  }
  let certificate: Certificate;
  if (config.tls.cert !== '' || config.tls.key !== '') {
    const certPem = readFileSync(config.tls.cert, 'utf8');
    const keyPem = readFileSync(config.tls.key, 'utf8');
    const sha256 = new Uint8Array(createHash('sha256').update(new X509Certificate(certPem).raw).digest());
    certificate = { certPem, keyPem, sha256 };
  } else if (typeof quic.loadOrCreateDevCertificate === 'function') {
    certificate = await quic.loadOrCreateDevCertificate(config.storage.path);
  } else {
    console.warn('pulse: WebTransport unavailable (no certificate configured and no development certificate)');
    return undefined;
  }
  return { listen: quic.listenWebTransport, certificate };
}
