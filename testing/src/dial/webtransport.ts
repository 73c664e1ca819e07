import { type WebTransportWire, webTransportWire } from '../protocol/webtransport-wire.ts';
import type { OpenTransport } from '../protocol/wire-transport.ts';

/** Dials Pulse over WebTransport (`https://host:port/pulse/wt`) from Node, trusting the certificate by its hash. */
export function dialWebTransport(url: string, certificateSha256: Uint8Array): OpenTransport<WebTransportWire> {
  return async (events) => {
    // Loaded on first use: the native QUIC binding costs about a second, and most tests never dial it.
    const { connectWebTransport } = await import('@pulse/webtransport/node');
    const session = connectWebTransport(url, {
      serverCertificateHashes: [{ algorithm: 'sha-256', value: certificateSha256 }],
    });
    return webTransportWire(session, events);
  };
}
