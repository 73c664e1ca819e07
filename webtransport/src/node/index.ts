/**
 * @pulse/webtransport/node — the Node-only QUIC edge: WebTransport over HTTP/3 on
 * quiche (through @matrixai/quic's raw binding) and node:dgram. Browser code
 * never imports this entry; the protocol logic it drives is sans-I/O in
 * ../h3, ../qpack and ../webtransport.
 */

export { H3_ERROR, H3Error, type H3ErrorName } from '../h3/errors.ts';
export { type IncomingPolicy, REFUSAL_CODE } from '../webtransport/incoming-policy.ts';
export { DEFAULT_WEBTRANSPORT_LIMITS, type WebTransportLimits, webTransportLimits } from '../webtransport/limits.ts';
export type { ReceiveCounters, ReceiveStats } from '../webtransport/receive-budget.ts';
export type {
  WebTransportBidirectionalStream,
  WebTransportCloseInfo,
  WebTransportDatagramDuplexStream,
  WebTransportLike,
} from '../webtransport/types.ts';
export { WebTransportError } from '../webtransport/types.ts';
export { type CertificateHash, type ConnectOptions, connectWebTransport, type NodeWebTransport } from './client.ts';
export {
  createDevCertificate,
  DEV_CERTIFICATE_VALIDITY_DAYS,
  type DevCertificate,
  describeCertificate,
  loadCertificateFiles,
  loadOrCreateDevCertificate,
} from './dev-certificate.ts';
export {
  type AdmissionLimits,
  DEFAULT_ADMISSION_LIMITS,
  type DropReason,
  type HandshakeStats,
} from './handshake-admission.ts';
export {
  type ListenOptions,
  listenWebTransport,
  type ServerWebTransportSession,
  type SessionAnswer,
  type SessionRequest,
  type WebTransportServer,
} from './server.ts';
export { sourceKey } from './source-key.ts';
export { DEFAULT_SOCKET_BUFFERS, type SocketBuffers } from './udp-endpoint.ts';
