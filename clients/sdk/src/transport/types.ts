/**
 * A transport carries whole encoded Pulse frames between the SDK and a server.
 * The connection above never learns which transport it has except through
 * `kind`, which the SDK shows to the user.
 */
export type TransportKind = 'webtransport' | 'websocket';

/** What the user asks for: a specific transport, or the SDK's choice. */
export type TransportPreference = 'auto' | TransportKind;

export interface TransportEvents {
  /** One complete frame's bytes, not yet decoded. */
  onFrame(bytes: Uint8Array): void;
  /** The transport is gone (either side ended it, or it failed). Called at most once. */
  onClose(reason: string): void;
  /** One datagram's bytes (WebTransport): one frame, which only an ephemeral type may be (PROTOCOL.md "Framing"). */
  onDatagram?(bytes: Uint8Array): void;
}

export interface FrameTransport {
  readonly kind: TransportKind;
  /** Queues one encoded frame. */
  send(frame: Uint8Array): void;
  /**
   * Sends one encoded ephemeral frame unreliably: in a datagram when the
   * transport has them and the frame fits one, else as `send` does. Absent: the
   * transport has no datagrams (WebSocket); the caller uses `send`.
   */
  sendUnreliable?(frame: Uint8Array): void;
  /** Closes the transport; `onClose` follows. */
  close(): void;
}

/** The part of the W3C WebSocket interface the SDK uses (browser `WebSocket` and the `ws` package both fit). */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketFactory = (url: string) => WebSocketLike;

/** The part of the W3C WebTransport interface the SDK uses (browser `WebTransport`, `@pulse/webtransport/node`'s client). */
export interface WebTransportLike {
  readonly ready: Promise<unknown>;
  readonly closed: Promise<unknown>;
  createBidirectionalStream(): Promise<{ readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> }>;
  close(info?: { closeCode?: number; reason?: string }): void;
  /** RFC 9297 datagrams of the session (W3C `datagrams`); absent where a runtime lacks them. */
  readonly datagrams?: {
    readonly readable: ReadableStream<Uint8Array>;
    readonly writable: WritableStream<Uint8Array>;
    readonly maxDatagramSize: number;
  };
}

export interface WebTransportOptions {
  serverCertificateHashes?: { algorithm: 'sha-256'; value: Uint8Array }[];
}

export type WebTransportFactory = (url: string, options: WebTransportOptions) => WebTransportLike;

/**
 * A transport that needs no network: a server in the same process (@pulse/testing's
 * in-memory connections), an embedding. `kind` is what the connection status reports.
 */
export interface DirectTransport {
  readonly kind: TransportKind;
  /** Opens one connection; throwing counts as "server unreachable". */
  open(events: TransportEvents): FrameTransport;
}

/** How this runtime opens each transport; a missing factory means "not available here". */
export interface TransportFactories {
  readonly webSocket?: WebSocketFactory;
  readonly webTransport?: WebTransportFactory;
  /** When present, the only transport: no `GET /pulse/info`, no WebTransport or WebSocket. */
  readonly direct?: DirectTransport;
}
