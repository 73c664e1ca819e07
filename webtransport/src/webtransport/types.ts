/**
 * The W3C WebTransport API shapes (https://www.w3.org/TR/webtransport/) that both
 * the Node client and the server-side sessions implement, so application
 * code is the same in Node and in the browser.
 */
export interface WebTransportCloseInfo {
  readonly closeCode: number;
  readonly reason: string;
}

export interface WebTransportBidirectionalStream {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
}

export interface WebTransportDatagramDuplexStream {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly maxDatagramSize: number;
}

/** What the W3C `WebTransport` object offers; the server-side session has the same shape. */
export interface WebTransportLike {
  readonly ready: Promise<void>;
  readonly closed: Promise<WebTransportCloseInfo>;
  readonly incomingBidirectionalStreams: ReadableStream<WebTransportBidirectionalStream>;
  readonly incomingUnidirectionalStreams: ReadableStream<ReadableStream<Uint8Array>>;
  readonly datagrams: WebTransportDatagramDuplexStream;
  /** The `wt-protocol` the server selected, or '' (W3C `protocol`). */
  readonly protocol: string;
  createBidirectionalStream(): Promise<WebTransportBidirectionalStream>;
  createUnidirectionalStream(): Promise<WritableStream<Uint8Array>>;
  close(closeInfo?: { closeCode?: number; reason?: string }): void;
}

export type WebTransportErrorSource = 'stream' | 'session';

/** Shaped like the W3C WebTransportError: `streamErrorCode` is set when the peer reset or stopped a stream. */
export class WebTransportError extends Error {
  override readonly name = 'WebTransportError';
  readonly source: WebTransportErrorSource;
  readonly streamErrorCode: number | null;

  constructor(message: string, init: { source?: WebTransportErrorSource; streamErrorCode?: number | null } = {}) {
    super(message);
    this.source = init.source ?? 'stream';
    this.streamErrorCode = init.streamErrorCode ?? null;
  }
}

/** The application code in an abort/cancel reason (a WebTransportError-like object), else 0. */
export function streamErrorCodeOf(reason: unknown): number {
  if (typeof reason === 'object' && reason !== null && 'streamErrorCode' in reason) {
    const code = (reason as { streamErrorCode: unknown }).streamErrorCode;
    if (typeof code === 'number' && Number.isInteger(code) && code >= 0 && code <= 0xffffffff) return code;
  }
  return 0;
}
