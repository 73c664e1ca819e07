/**
 * The one connection abstraction the router sees. Each transport adapter
 * (WebSocket, WebTransport) turns its sessions into Connections carrying whole
 * encoded frames; the router never learns which transport it has, apart from the
 * label it puts on metrics. `memory` labels in-process connections without a
 * network (tests, embedding).
 */
export type TransportKind = 'websocket' | 'webtransport' | 'memory';

/** `remoteAddress` of a connection whose transport cannot tell the peer's address. */
export const UNKNOWN_ADDRESS = 'unknown';

export interface Connection {
  readonly transport: TransportKind;
  /** The peer's IP address (for per-IP limits and logs). */
  readonly remoteAddress: string;
  /** Bytes accepted by `send` that have not been handed to the network yet. */
  readonly bufferedAmount: number;
  /** Queues one encoded frame. The same bytes may be passed to many connections. */
  send(frame: Uint8Array): void;
  /**
   * Sends one encoded frame as an unreliable datagram (WebTransport sessions
   * only): false when it does not fit one on this path, and the caller sends it
   * on the stream instead. Absent: the transport has no datagrams.
   */
  sendDatagram?(frame: Uint8Array): boolean;
  /** Flushes what is queued, then closes; `code` is the app error code of the `close` frame sent before. */
  close(code: string, reason: string): void;
}

/** What the router gives back for each accepted connection. */
export interface ConnectionHandler {
  /** One complete frame's bytes (not yet decoded). */
  onFrame(bytes: Uint8Array): void;
  /** One datagram's bytes (WebTransport): one frame, of an ephemeral type or dropped (PROTOCOL.md "Framing"). */
  onDatagram?(bytes: Uint8Array): void;
  /** The transport could not delimit a frame (oversized, truncated): the connection is unusable. */
  onFramingError(error: Error): void;
  /** The connection is gone, whichever side ended it. Called once. */
  onClose(): void;
}

/** Called by an adapter for each new connection; undefined refuses it (already closed by the acceptor). */
export type ConnectionAcceptor = (connection: Connection) => ConnectionHandler | undefined;

/** A running transport listener. */
export interface TransportServer {
  readonly kind: TransportKind;
  /** Stops accepting new connections (existing ones stay open until closed). */
  stopAccepting(): Promise<void>;
  /** Waits up to `graceMs` for open connections to finish closing, then cuts the rest and releases the listener. */
  close(graceMs: number): Promise<void>;
}
