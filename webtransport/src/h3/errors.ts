/**
 * Error codes of HTTP/3 (RFC 9114 §8.1), QPACK (RFC 9204 §6), HTTP Datagrams
 * (RFC 9297 §5.2) and WebTransport over HTTP/3, and the one typed error the
 * sans-I/O core throws. The QUIC edge catches an `H3Error` in a single place and
 * closes the connection (or resets the stream, for stream errors) with `code`.
 */
export const H3_ERROR = {
  H3_NO_ERROR: 0x100,
  H3_GENERAL_PROTOCOL_ERROR: 0x101,
  H3_INTERNAL_ERROR: 0x102,
  H3_STREAM_CREATION_ERROR: 0x103,
  H3_CLOSED_CRITICAL_STREAM: 0x104,
  H3_FRAME_UNEXPECTED: 0x105,
  H3_FRAME_ERROR: 0x106,
  H3_EXCESSIVE_LOAD: 0x107,
  H3_ID_ERROR: 0x108,
  H3_SETTINGS_ERROR: 0x109,
  H3_MISSING_SETTINGS: 0x10a,
  H3_REQUEST_REJECTED: 0x10b,
  H3_REQUEST_CANCELLED: 0x10c,
  H3_REQUEST_INCOMPLETE: 0x10d,
  H3_MESSAGE_ERROR: 0x10e,
  H3_CONNECT_ERROR: 0x10f,
  H3_VERSION_FALLBACK: 0x110,
  QPACK_DECOMPRESSION_FAILED: 0x200,
  QPACK_ENCODER_STREAM_ERROR: 0x201,
  QPACK_DECODER_STREAM_ERROR: 0x202,
  H3_DATAGRAM_ERROR: 0x33,
  /** draft-ietf-webtrans-http3 §9.5: a stream arrived for a session that never came. */
  WT_BUFFERED_STREAM_REJECTED: 0x3994bd84,
  /** draft-ietf-webtrans-http3 §9.5: the stream's session is gone. */
  WT_SESSION_GONE: 0x170d7b68,
} as const;

export type H3ErrorName = keyof typeof H3_ERROR;

/** Whether the error ends the whole connection or only one request stream. */
export type H3ErrorScope = 'connection' | 'stream';

export class H3Error extends Error {
  override readonly name = 'H3Error';
  /** Stable symbolic code, e.g. `H3_FRAME_UNEXPECTED`. */
  readonly code: H3ErrorName;
  /** The numeric code sent on the wire (CONNECTION_CLOSE or RESET_STREAM). */
  readonly wireCode: number;
  readonly scope: H3ErrorScope;
  /** The stream the error is about, for stream-scoped errors. */
  readonly streamId: number | undefined;

  constructor(code: H3ErrorName, message: string, scope: H3ErrorScope = 'connection', streamId?: number) {
    super(message);
    this.code = code;
    this.wireCode = H3_ERROR[code];
    this.scope = scope;
    this.streamId = streamId;
  }

  static is(error: unknown, code?: H3ErrorName): error is H3Error {
    return error instanceof H3Error && (code === undefined || error.code === code);
  }
}

/** Name of a wire error code, for messages and logs (undefined when not ours). */
export function h3ErrorName(wireCode: number): H3ErrorName | undefined {
  for (const [name, value] of Object.entries(H3_ERROR)) if (value === wireCode) return name as H3ErrorName;
  return undefined;
}
