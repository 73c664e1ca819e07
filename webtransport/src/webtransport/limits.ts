/**
 * Every size, count and timeout of the HTTP/3 + WebTransport stack, in one
 * place. Servers may override any of them (`listenWebTransport({ limits })`);
 * the defaults are safe for a public endpoint.
 */
export interface WebTransportLimits {
  /** Largest decoded request/response field section (RFC 9114 §4.2.2), advertised in SETTINGS. */
  readonly maxFieldSectionSize: number;
  /** Largest HTTP/3 frame other than DATA that is buffered whole (HEADERS, SETTINGS, ...). */
  readonly maxFrameBytes: number;
  /** Largest capsule accepted on a CONNECT stream (RFC 9297). */
  readonly maxCapsuleBytes: number;
  /** Concurrent WebTransport sessions per connection. */
  readonly maxSessionsPerConnection: number;
  /** Concurrent QUIC connections per server. */
  readonly maxConnections: number;
  /** Peer-initiated bidirectional streams per connection at once (QUIC initial_max_streams_bidi). */
  readonly maxIncomingBidiStreams: number;
  /** Peer-initiated unidirectional streams at once (initial_max_streams_uni; browsers need ≥ 3). */
  readonly maxIncomingUniStreams: number;
  /** Streams that arrived before their session and wait for it (draft-ietf-webtrans-http3 §4.6). */
  readonly maxBufferedStreams: number;
  /** Peer-opened streams, per direction, a session queues until the application takes them; beyond, refused. */
  readonly incomingStreamQueueLength: number;
  /** Bytes a stream reads ahead of its reader before it stops reading (the peer then waits on flow control). */
  readonly streamReadBufferBytes: number;
  /**
   * Bytes a session holds that its application has not read: streams' read-ahead
   * and first bytes, queued datagrams (each chunk also costs a fixed overhead).
   */
  readonly sessionReceiveBudgetBytes: number;
  /** The same across a connection's sessions, streams waiting for their session included. */
  readonly connectionReceiveBudgetBytes: number;
  /** QUIC flow-control window per stream: what a stream may leave unread in quiche. */
  readonly streamWindowBytes: number;
  /** QUIC flow-control window per connection: what all streams together may leave unread in quiche. */
  readonly connectionWindowBytes: number;
  /** Received datagrams queued per session while the application does not read (within the session's budget). */
  readonly datagramQueueLength: number;
  /** Largest close reason (draft-ietf-webtrans-http3 §5: 1024 bytes). */
  readonly maxCloseReasonBytes: number;
  /** QUIC idle timeout, in milliseconds. */
  readonly idleTimeoutMs: number;
}

export const DEFAULT_WEBTRANSPORT_LIMITS: WebTransportLimits = Object.freeze({
  maxFieldSectionSize: 16 * 1024,
  maxFrameBytes: 64 * 1024,
  maxCapsuleBytes: 64 * 1024,
  maxSessionsPerConnection: 16,
  maxConnections: 10_000,
  maxIncomingBidiStreams: 256,
  maxIncomingUniStreams: 256,
  maxBufferedStreams: 32,
  // A packet can open ~70 small streams; the application takes them before the next packet.
  incomingStreamQueueLength: 128,
  streamReadBufferBytes: 256 * 1024,
  // A reader that keeps up is never held back by the budgets (chunks go straight to it): they bound
  // only read-ahead that waits. A connection holds at most connectionWindowBytes unread in quiche
  // plus connectionReceiveBudgetBytes queued here: 8 MiB.
  sessionReceiveBudgetBytes: 1024 * 1024,
  connectionReceiveBudgetBytes: 4 * 1024 * 1024,
  streamWindowBytes: 1024 * 1024,
  connectionWindowBytes: 4 * 1024 * 1024,
  datagramQueueLength: 1024,
  maxCloseReasonBytes: 1024,
  idleTimeoutMs: 30_000,
});

/** Defaults with overrides applied; refuses values that would break the protocol. */
export function webTransportLimits(overrides: Partial<WebTransportLimits> = {}): WebTransportLimits {
  const limits = { ...DEFAULT_WEBTRANSPORT_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`WebTransport limit ${name} must be a positive integer, got ${String(value)}`);
    }
  }
  if (limits.maxIncomingUniStreams < 3) throw new RangeError('maxIncomingUniStreams must be at least 3 (browsers)');
  if (limits.maxCloseReasonBytes > 1024) throw new RangeError('maxCloseReasonBytes cannot exceed 1024');
  // Nested bounds: one stream's read-ahead fits a session's budget, which fits its connection's.
  if (limits.streamReadBufferBytes > limits.sessionReceiveBudgetBytes) {
    throw new RangeError('streamReadBufferBytes cannot exceed sessionReceiveBudgetBytes');
  }
  if (limits.sessionReceiveBudgetBytes > limits.connectionReceiveBudgetBytes) {
    throw new RangeError('sessionReceiveBudgetBytes cannot exceed connectionReceiveBudgetBytes');
  }
  if (limits.streamWindowBytes > limits.connectionWindowBytes) {
    throw new RangeError('streamWindowBytes cannot exceed connectionWindowBytes');
  }
  return Object.freeze(limits);
}
