/**
 * @pulse/webtransport: WebTransport over HTTP/3 (draft-ietf-webtrans-http3-02 as
 * browsers speak it), sans-I/O and browser-safe. HTTP/3 (RFC 9114), QPACK without
 * a dynamic table (RFC 9204), capsules (RFC 9297) and the W3C-shaped session are
 * state machines fed bytes; the Node-only QUIC edge that drives them over quiche
 * and node:dgram is `@pulse/webtransport/node`. Nothing here knows the
 * application above it.
 */
export { type Capsule, CapsuleReader } from './h3/capsule-reader.ts';
export { H3Connection, type H3ConnectionOptions } from './h3/connection.ts';
export { H3_ERROR, H3Error, type H3ErrorName, type H3ErrorScope, h3ErrorName } from './h3/errors.ts';
export type { H3Action, H3Event } from './h3/events.ts';
export { CAPSULE, FRAME, SETTING, UNI_STREAM } from './h3/frames.ts';
export { parseRequestHead, parseResponseHead, type RequestHead, type ResponseHead } from './h3/message.ts';
export type { Role } from './h3/stream-ids.ts';
export { decodeFieldSection, encodeFieldSection, type FieldLine } from './qpack/field-section.ts';
export { encodeVarint, readVarint, readVarintLossy, VARINT_MAX, varintLength, writeVarint } from './varint.ts';
export {
  type Acceptance,
  type AcceptDecision,
  type AcceptedResponse,
  type AcceptPolicy,
  acceptedResponse,
  decideAccept,
  type Refusal,
  type RefusalStatus,
  refusal,
  type SessionHead,
} from './webtransport/accept-policy.ts';
export { decodeCloseCapsuleValue, encodeCloseCapsuleValue } from './webtransport/close-capsule.ts';
export { http3CodeToWebTransport, webTransportCodeToHttp3 } from './webtransport/error-codes.ts';
export {
  ACCEPT_EVERYTHING,
  decideIncomingStream,
  type IncomingPolicy,
  type IncomingStreamContext,
  type IncomingStreamDecision,
  incomingPolicy,
  REFUSAL_CODE,
} from './webtransport/incoming-policy.ts';
export { DEFAULT_WEBTRANSPORT_LIMITS, type WebTransportLimits, webTransportLimits } from './webtransport/limits.ts';
export {
  parseAvailableProtocols,
  parseSelectedProtocol,
  serializeAvailableProtocols,
  serializeSelectedProtocol,
} from './webtransport/protocol-fields.ts';
export {
  QUEUED_CHUNK_OVERHEAD_BYTES,
  queuedCost,
  ReceiveBudget,
  type ReceiveCounters,
  type ReceiveStats,
} from './webtransport/receive-budget.ts';
export { type IncomingStreamOutcome, type SessionPort, WebTransportSession } from './webtransport/session.ts';
export {
  type WebTransportBidirectionalStream,
  type WebTransportCloseInfo,
  type WebTransportDatagramDuplexStream,
  WebTransportError,
  type WebTransportErrorSource,
  type WebTransportLike,
} from './webtransport/types.ts';
