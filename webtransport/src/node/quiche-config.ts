/**
 * quiche configuration for HTTP/3 WebTransport, on the raw napi binding of
 * @matrixai/quic (its high-level QUICServer mishandles streams that arrive with
 * the handshake's last flight; see WEBTRANSPORT.md), and the two stream helpers
 * the binding lacks: reading a reset's code, and shutting a stream both ways.
 */
import { type Config, type Connection, quiche } from '@matrixai/quic/native/index.js';
import type { WebTransportLimits } from '../webtransport/limits.ts';

export type { Config, Connection, Header, Host as HostPort, Shutdown } from '@matrixai/quic/native/index.js';
export { quiche };

/** Server connection ids are 20 bytes: quiche parses short headers with its maximum length. */
export const CONNECTION_ID_LENGTH = 20;
/** UDP payload we send: fits common paths (RFC 9000 §14), as browsers do. */
export const MAX_SEND_UDP_PAYLOAD = 1350;

const utf8 = new TextEncoder();

export interface TlsIdentity {
  readonly certPem: string;
  readonly keyPem: string;
}

export function createQuicheConfig(
  role: 'client' | 'server',
  limits: WebTransportLimits,
  identity?: TlsIdentity,
): Config {
  const config =
    role === 'server'
      ? quiche.Config.withBoringSslCtx(
          false,
          false,
          null,
          [utf8.encode((identity as TlsIdentity).keyPem)],
          [utf8.encode((identity as TlsIdentity).certPem)],
          null,
        )
      : // The client checks the certificate itself (serverCertificateHashes), so verification may "fail" in BoringSSL.
        quiche.Config.withBoringSslCtx(true, true, null, null, null, null);
  config.setApplicationProtos(['h3']);
  config.grease(true);
  config.setMaxIdleTimeout(limits.idleTimeoutMs);
  config.setMaxRecvUdpPayloadSize(65527);
  config.setMaxSendUdpPayloadSize(MAX_SEND_UDP_PAYLOAD);
  config.setInitialMaxData(limits.connectionWindowBytes);
  config.setInitialMaxStreamDataBidiLocal(limits.streamWindowBytes);
  config.setInitialMaxStreamDataBidiRemote(limits.streamWindowBytes);
  config.setInitialMaxStreamDataUni(limits.streamWindowBytes);
  config.setInitialMaxStreamsBidi(limits.maxIncomingBidiStreams);
  // Browsers close the connection when fewer than 3 uni streams are allowed (control + QPACK streams).
  config.setInitialMaxStreamsUni(limits.maxIncomingUniStreams);
  config.setMaxConnectionWindow(limits.connectionWindowBytes);
  config.setMaxStreamWindow(limits.streamWindowBytes);
  config.setDisableActiveMigration(true);
  config.enablePacing(false);
  // Without the max_datagram_frame_size transport parameter, Chromium drops datagrams silently.
  config.enableDgram(true, limits.datagramQueueLength, limits.datagramQueueLength);
  return config;
}

/**
 * quiche reports stream resets and STOP_SENDING as errors whose message is
 * "StreamReset(code)" / "StreamStopped(code)"; this reads the code back.
 */
export function quicheStreamErrorCode(error: unknown, kind: 'StreamReset' | 'StreamStopped'): number | undefined {
  const match = error instanceof Error ? new RegExp(`${kind}\\((\\d+)\\)`).exec(error.message) : null;
  return match === null ? undefined : Number(match[1]);
}

/** RESET_STREAM and STOP_SENDING with an HTTP/3 `code`, skipping directions the stream does not have (uni) or finished. */
export function shutdownStream(quic: Connection, streamId: number, code: number): void {
  for (const direction of [quiche.Shutdown.Read, quiche.Shutdown.Write]) {
    try {
      quic.streamShutdown(streamId, direction, code);
    } catch {
      // That direction is not ours (uni stream) or already finished.
    }
  }
}
