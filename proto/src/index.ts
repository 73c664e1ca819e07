/**
 * @pulse/proto: the Pulse wire protocol (frames, codec, stream framing, versions,
 * limits, signed messages). Browser-safe: no Node-only APIs here. Which transport
 * carries the frames (WebSocket, WebTransport) is not proto's concern.
 */
export { FrameCodec } from './codec.ts';
export {
  DEVICE_LIST_CONTEXT,
  type DeviceList,
  type DeviceListEntry,
  deviceListSignedMessage,
  devicesAscend,
  type SignedDeviceList,
} from './device-list.ts';
export { DATAGRAM_FRAME_TYPES, isDatagramFrameType, MAX_EPHEMERAL_PAYLOAD_BYTES } from './ephemeral.ts';
export { APP_ERROR_CODES, type AppErrorCode } from './error-codes.ts';
export { PROTO_ERROR_CODES, ProtoError, type ProtoErrorCode } from './errors.ts';
export { FRAME_TYPES, type Frame, type FrameOf, type FrameType, frameSchema } from './frames.ts';
export { DEFAULT_PROTO_LIMITS, type ProtoLimits, protoLimits } from './limits.ts';
export {
  canonicalLinkCode,
  LINK_CODE_ALPHABET,
  LINK_CODE_CONTEXT,
  LINK_CODE_LENGTH,
  linkCodeFromRandom,
  linkCodeMacMessage,
} from './link-code.ts';
export { guardMessagePack } from './msgpack-guard.ts';
export { type Answer, type AnswerOf, REQUEST_ANSWERS, type RequestFrame, type RequestType } from './requests.ts';
export { DELIVERY_TOKEN_BYTES, MAX_SENDER_CERTIFICATE_BYTES } from './sealed-sender.ts';
export {
  authSignedMessage,
  linkRequestSignedMessage,
  prekeysUploadSignedMessage,
  registerSignedMessage,
  SIGNING_CONTEXTS,
} from './signed-messages.ts';
export { prefixLength, StreamFrameDecoder } from './stream-framing.ts';
export { encodeVarint, readVarint, VARINT_MAX, varintLength, writeVarint } from './varint.ts';
export { CURRENT_PROTOCOL_VERSION, negotiateVersion, PROTOCOL_VERSIONS } from './versions.ts';
