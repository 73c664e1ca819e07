import { ProtoError, prefixLength, StreamFrameDecoder } from '@pulse/proto';
import type {
  AdmissionLimits,
  HandshakeStats,
  IncomingPolicy,
  ListenOptions,
  ReceiveStats,
  ServerWebTransportSession,
  SessionRequest,
  WebTransportBidirectionalStream,
  WebTransportLimits,
  WebTransportServer,
} from '@pulse/webtransport/node';
import type { Connection, ConnectionAcceptor, ConnectionHandler, TransportServer } from '../../core/connection.ts';
import type { PartialFrameBudget } from './partial-frames.ts';
import { flushAtEndOfTask } from './task-flush.ts';

/**
 * Starts an HTTP/3 WebTransport listener: `listenWebTransport` of
 * `@pulse/webtransport/node`, passed in (quic-loader.ts loads it lazily) so a
 * WebSocket-only server never loads the native QUIC module.
 */
export type ListenWebTransport = (options: ListenOptions) => Promise<WebTransportServer>;

/**
 * Fan-out hands the same encoded frame to every subscriber: prefix it once too,
 * so N WebTransport subscribers share one buffer as WebSocket ones do.
 */
const prefixed = new WeakMap<Uint8Array, Uint8Array>();
function prefixedOnce(frame: Uint8Array): Uint8Array {
  let bytes = prefixed.get(frame);
  if (bytes === undefined) {
    bytes = prefixLength(frame);
    prefixed.set(frame, bytes);
  }
  return bytes;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * What Pulse reads of a session: its one bidirectional stream, and datagrams,
 * each one ephemeral frame (PROTOCOL.md "Ephemeral events"), read as they come
 * and bounded by the session's datagram queue and receive budget while they
 * wait. The WebTransport layer refuses everything else at once (STOP_SENDING /
 * RESET_STREAM with STREAM_REFUSED), so a peer cannot make the server keep
 * bytes nobody reads (issue 11).
 */
const PULSE_READS: IncomingPolicy = Object.freeze({
  bidirectionalStreams: 1,
  unidirectionalStreams: 0,
  datagrams: true,
  // Above any datagram a 1500-byte path carries, far below the ~64 KiB QUIC accepts: larger ones are dropped unread.
  maxDatagramBytes: 8 * 1024,
});

/** How long a closing session waits for the peer to close it before the server does. */
const CLOSE_GRACE_MS = 1_000;

/** WebTransport close codes are 32-bit application codes; 0 is a normal close. */
function wtCloseCode(code: string): number {
  return code === 'NORMAL' ? 0 : 1;
}

/**
 * Pulse over WebTransport: the client opens ONE bidirectional stream right
 * after `ready`; every frame on it is preceded by its length as a QUIC varint
 * (proto's prefixLength / StreamFrameDecoder). The frames sent during one task
 * of the event loop go to the stream in ONE write holding them all, each with
 * its prefix (task-flush.ts): one pass through the HTTP/3 and QUIC layers, not one
 * each.
 */
class WebTransportConnection implements Connection {
  readonly transport = 'webtransport' as const;
  readonly remoteAddress: string;
  readonly #session: ServerWebTransportSession;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #datagrams: WritableStreamDefaultWriter<Uint8Array>;
  #buffered = 0;
  #closed = false;
  /** Prefixed frames of this task, written together at its end. */
  #pending: Uint8Array[] = [];
  readonly #flush = () => this.#writePending();

  constructor(session: ServerWebTransportSession, stream: WebTransportBidirectionalStream, remoteAddress: string) {
    this.#session = session;
    this.#writer = stream.writable.getWriter();
    this.#datagrams = session.datagrams.writable.getWriter();
    this.remoteAddress = remoteAddress;
  }

  get bufferedAmount(): number {
    return this.#buffered;
  }

  send(frame: Uint8Array): void {
    if (this.#closed) return;
    const bytes = prefixedOnce(frame);
    this.#buffered += bytes.length;
    if (this.#pending.length === 0) flushAtEndOfTask(this.#flush);
    this.#pending.push(bytes);
  }

  #writePending(): void {
    const frames = this.#pending;
    if (frames.length === 0) return;
    this.#pending = [];
    const bytes = frames.length === 1 ? frames[0]! : concat(frames);
    this.#writer.write(bytes).then(
      () => {
        this.#buffered -= bytes.length;
      },
      () => {
        this.#buffered -= bytes.length;
      },
    );
  }

  /** One frame, unprefixed, in one datagram (PROTOCOL.md "Framing"); false when it does not fit one now. */
  sendDatagram(frame: Uint8Array): boolean {
    if (this.#closed) return true;
    if (frame.byteLength > this.#session.datagrams.maxDatagramSize) return false;
    // Unreliable by definition: a datagram QUIC cannot queue is lost, as any other would be.
    this.#datagrams.write(frame).catch(() => {});
    return true;
  }

  close(code: string, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#writePending();
    // Closing the session aborts its streams (W3C WebTransport), which may discard
    // frames not yet on the wire, the `close` frame among them. So: end the stream
    // (FIN after the queued frames), give the peer a moment to read and close the
    // session itself, then close it from here.
    const closeSoon = () => {
      const timer = setTimeout(() => this.#closeSession(code, reason), CLOSE_GRACE_MS);
      timer.unref();
      this.#session.closed.then(
        () => clearTimeout(timer),
        () => clearTimeout(timer),
      );
    };
    this.#writer.close().then(closeSoon, closeSoon);
  }

  #closeSession(code: string, reason: string): void {
    try {
      this.#session.close({ closeCode: wtCloseCode(code), reason: reason.slice(0, 100) });
    } catch {
      // Already closed by the peer.
    }
  }
}

export async function listenPulseWebTransport(
  listen: ListenWebTransport,
  options: {
    host: string;
    port: number;
    certificate: { certPem: string; keyPem: string };
    path: string;
    maxFrameBytes: number;
    /** How long a session may take to open its stream. */
    streamTimeoutMs: number;
    accept: ConnectionAcceptor;
    /** The QUIC connection cap (`limits.maxConnections`) and other WebTransport limits. */
    limits?: Partial<WebTransportLimits>;
    /** Bounds on QUIC handshakes (in progress, per source, timeout, Retry threshold). */
    admission?: Partial<AdmissionLimits>;
    /** The client's address key for per-IP limits (IPv6 /64); default: the UDP peer's address. */
    addressKey?: (host: string) => string;
    /** Bytes of frames received in part, over every connection; beyond it, `onOverBudget`. */
    partialFrames?: PartialFrameBudget;
    onOverBudget?: (connection: Connection) => void;
  },
): Promise<
  TransportServer & {
    readonly port: number;
    readonly receiveStats: ReceiveStats;
    readonly handshakeStats: HandshakeStats;
  }
> {
  let accepting = true;
  const onSession = (session: ServerWebTransportSession, request: SessionRequest): undefined => {
    if (!accepting) {
      session.close({ closeCode: 1, reason: 'SERVER_SHUTDOWN' });
      return undefined;
    }
    void serveSession(session, options.addressKey?.(request.remoteAddress) ?? request.remoteAddress, options);
    return undefined;
  };
  const server = await listen({
    host: options.host,
    port: options.port,
    certificate: options.certificate,
    paths: [options.path],
    incoming: PULSE_READS,
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(options.admission === undefined ? {} : { admission: options.admission }),
    onSession,
  });
  return {
    kind: 'webtransport',
    port: server.port,
    /** Streams refused, datagrams and bytes dropped, bytes held: for metrics. */
    get receiveStats() {
      return server.receiveStats;
    },
    /** QUIC handshakes in progress, and Initials refused, retried or timed out: for metrics. */
    get handshakeStats() {
      return server.handshakeStats;
    },
    async stopAccepting() {
      accepting = false;
    },
    async close(graceMs: number) {
      accepting = false;
      // Sessions were told SERVER_SHUTDOWN; give their last frames a moment to leave.
      await new Promise((r) => setTimeout(r, Math.min(graceMs, 100)));
      await server.close();
    },
  };
}

async function serveSession(
  session: ServerWebTransportSession,
  remoteAddress: string,
  options: {
    maxFrameBytes: number;
    streamTimeoutMs: number;
    accept: ConnectionAcceptor;
    partialFrames?: PartialFrameBudget;
    onOverBudget?: (connection: Connection) => void;
  },
): Promise<void> {
  session.closed.catch(() => {});
  const streams = session.incomingBidirectionalStreams.getReader();
  const timer = setTimeout(() => session.close({ closeCode: 1, reason: 'no stream opened' }), options.streamTimeoutMs);
  let first: ReadableStreamReadResult<WebTransportBidirectionalStream>;
  try {
    first = await streams.read();
  } catch {
    clearTimeout(timer);
    return;
  } finally {
    clearTimeout(timer);
  }
  if (first.done) return;
  // Further streams never come: PULSE_READS has them refused before they reach the session.

  const connection = new WebTransportConnection(session, first.value, remoteAddress);
  const handler = options.accept(connection);
  if (handler === undefined) return;
  const decoder = new StreamFrameDecoder(options.maxFrameBytes);
  const reader = first.value.readable.getReader();
  let ended = false;
  const finish = () => {
    if (ended) return;
    ended = true;
    options.partialFrames?.release(connection);
    handler.onClose();
  };
  session.closed.then(finish, finish);
  void readDatagrams(session, handler);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        decoder.end();
        break;
      }
      for (const frame of decoder.push(value)) handler.onFrame(frame);
      // What the decoder keeps now is a frame received in part: it counts against the shared budget.
      if (options.partialFrames !== undefined && !options.partialFrames.set(connection, decoder.buffered)) {
        options.partialFrames.release(connection);
        options.onOverBudget?.(connection);
        reader.cancel().catch(() => {});
        break;
      }
    }
  } catch (error) {
    // A framing violation is the peer's fault and gets a typed close; a reset stream just ends.
    if (!ended && error instanceof ProtoError) handler.onFramingError(error);
  } finally {
    finish();
  }
}

/** Hands each datagram of the session to the core as it arrives, until the session ends. */
async function readDatagrams(session: ServerWebTransportSession, handler: ConnectionHandler): Promise<void> {
  const reader = session.datagrams.readable.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      handler.onDatagram?.(value);
    }
  } catch {
    // The session ended abruptly: the stream's reader reports it.
  }
}
