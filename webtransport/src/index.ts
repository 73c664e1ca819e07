/**
 * @pulse/webtransport: WebTransport over HTTP/3 (draft-ietf-webtrans-http3-02 as
 * browsers speak it), sans-I/O and browser-safe. HTTP/3 (RFC 9114), QPACK without
 * a dynamic table (RFC 9204), capsules (RFC 9297) and the W3C-shaped session are
 * state machines fed bytes; the Node-only QUIC edge that drives them over quiche
 * and node:dgram is `@pulse/webtransport/node`. Nothing here knows Pulse.
 */
export { type Capsule, CapsuleReader } from './h3/capsule-reader.ts';
export { type H3Action, H3Connection, type H3ConnectionOptions, type H3Event, type Role } from './h3/connection.ts';
export { H3_ERROR, H3Error, type H3ErrorName, type H3ErrorScope, h3ErrorName } from './h3/errors.ts';
export { CAPSULE, FRAME, SETTING, UNI_STREAM } from './h3/frames.ts';
export {
  parseProtocolList,
  parseRequestHead,
  parseResponseHead,
  type RequestHead,
  type ResponseHead,
  serializeSfString,
} from './h3/message.ts';
export { decodeFieldSection, encodeFieldSection, type FieldLine } from './qpack/field-section.ts';
export { encodeVarint, readVarint, readVarintLossy, VARINT_MAX, varintLength, writeVarint } from './varint.ts';
export { decodeCloseCapsuleValue, encodeCloseCapsuleValue } from './webtransport/close-capsule.ts';
export { http3CodeToWebTransport, webTransportCodeToHttp3 } from './webtransport/error-codes.ts';
export { DEFAULT_WEBTRANSPORT_LIMITS, type WebTransportLimits, webTransportLimits } from './webtransport/limits.ts';
export { type SessionPort, WebTransportSession } from './webtransport/session.ts';
export {
  type WebTransportBidirectionalStream,
  type WebTransportCloseInfo,
  type WebTransportDatagramDuplexStream,
  WebTransportError,
  type WebTransportErrorSource,
  type WebTransportLike,
} from './webtransport/types.ts';
