/**
 * Typed errors of the wire layer. Every decoding failure becomes a ProtoError
 * with a stable code; callers branch on `code`, never on the message text.
 */
export const PROTO_ERROR_CODES = [
  /** A frame (or a length prefix announcing one) exceeds `maxFrameBytes`. */
  'PROTO_FRAME_TOO_LARGE',
  /** The bytes are not well-formed MessagePack, or use a type Pulse never sends. */
  'PROTO_MALFORMED',
  /** Arrays and maps nest deeper than `maxDepth`. */
  'PROTO_TOO_DEEP',
  /** Bytes remain after one complete MessagePack value. */
  'PROTO_TRAILING_BYTES',
  /** The value is not a map with a known string `type`. */
  'PROTO_UNKNOWN_TYPE',
  /** A field is missing, of the wrong type or outside its limits; `path` names it. */
  'PROTO_BAD_FIELD',
  /** Client and server share no protocol version. */
  'PROTO_NO_COMMON_VERSION',
  /** A byte stream ended in the middle of a frame. */
  'PROTO_TRUNCATED',
] as const;

export type ProtoErrorCode = (typeof PROTO_ERROR_CODES)[number];

export class ProtoError extends Error {
  override readonly name = 'ProtoError';
  readonly code: ProtoErrorCode;
  /** Dotted path of the offending field for PROTO_BAD_FIELD (e.g. `envelopes.3.payload`). */
  readonly path: string | undefined;
  /**
   * The request id of a frame that decoded but failed validation, when its `id`
   * field itself is valid: the answering `error` frame carries it so the client
   * can match the failure to its request.
   */
  readonly requestId: number | undefined;

  constructor(code: ProtoErrorCode, message: string, path?: string, requestId?: number) {
    super(path === undefined ? message : `${message} (at ${path})`);
    this.code = code;
    this.path = path;
    this.requestId = requestId;
  }

  static is(error: unknown, code?: ProtoErrorCode): error is ProtoError {
    return error instanceof ProtoError && (code === undefined || error.code === code);
  }
}
