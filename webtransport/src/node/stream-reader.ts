/**
 * The read side of one connection's QUIC streams. HTTP/3 streams (control,
 * QPACK, requests, and new streams not yet classified) are read eagerly and fed
 * to the HTTP/3 core; WebTransport streams are read only as far as their reader
 * wants: any amount while a read waits, else what the read-ahead and the
 * receive budget have room for, never more (backpressure: unread bytes stay in
 * quiche and the peer waits on flow control). The StreamPoller says which
 * streams have bytes.
 *
 * Hot path: one streamRecv per chunk into one shared buffer, no closure or
 * promise per chunk; a stream the poller just found readable is read without
 * asking quiche again.
 */
import type { H3Connection } from '../h3/connection.ts';
import type { Role } from '../h3/stream-ids.ts';
import { http3CodeToWebTransport } from '../webtransport/error-codes.ts';
import type { WebTransportSession } from '../webtransport/session.ts';
import { WebTransportError } from '../webtransport/types.ts';
import { type Connection, quicheStreamErrorCode } from './quiche-config.ts';
import type { SessionTable } from './session-table.ts';
import { StreamPoller } from './stream-poller.ts';

const READ_CHUNK = 64 * 1024;
/**
 * A new peer stream is read this much first: a stream type and a session id
 * (two varints). If it is a WebTransport stream, the rest stays in QUIC for its
 * reader, under the receive budget, instead of arriving with the header.
 */
const STREAM_HEADER_READ = 16;

export interface StreamReaderHooks {
  /** Bytes of an HTTP/3 stream, to feed to the core. */
  http3Data(streamId: number, bytes: Uint8Array, fin: boolean): void;
  /** The peer reset an HTTP/3 stream with `code`. */
  http3Reset(streamId: number, code: number): void;
  /** A WebTransport stream's receive half ended (FIN or reset). */
  receiveDone(session: WebTransportSession, streamId: number): void;
}

/** What one streamRecv gave: a chunk (copied out of the shared buffer), or the peer's reset. */
type Received =
  | { readonly kind: 'chunk'; readonly bytes: Uint8Array; readonly fin: boolean }
  /** `code` is undefined when quiche failed the read for another reason (the stream is gone). */
  | { readonly kind: 'reset'; readonly code: number | undefined };

export class StreamReader {
  readonly #quic: Connection;
  readonly #h3: H3Connection;
  readonly #sessions: SessionTable;
  readonly #hooks: StreamReaderHooks;
  readonly #poller: StreamPoller;
  readonly #buffer = new Uint8Array(READ_CHUNK);
  /** WebTransport streams being read now (enqueueing can re-enter through the reader's pull()). */
  readonly #reading = new Set<number>();
  /** WebTransport streams whose reading stopped because the reader's queue was full. */
  readonly #starved = new Set<number>();
  /** Bound once: the poller calls it for every readable stream. */
  readonly #readBound = (streamId: number): boolean => this.#read(streamId);

  constructor(quic: Connection, role: Role, h3: H3Connection, sessions: SessionTable, hooks: StreamReaderHooks) {
    this.#quic = quic;
    this.#h3 = h3;
    this.#sessions = sessions;
    this.#hooks = hooks;
    this.#poller = new StreamPoller(quic, role);
  }

  /** The lowest peer bidirectional stream id not seen yet (for GOAWAY, RFC 9114 §5.2). */
  get nextPeerBidiStream(): number {
    return this.#poller.nextPeerBidiStream;
  }

  /** A stream this endpoint opened that will receive bytes. */
  watch(streamId: number): void {
    this.#poller.watch(streamId);
  }

  /** Nothing more will be read from this stream. */
  unwatch(streamId: number): void {
    this.#poller.unwatch(streamId);
  }

  /** The stream's reader is gone: it no longer waits for room. */
  forgetStarved(streamId: number): void {
    this.#starved.delete(streamId);
  }

  /**
   * Reads every stream with bytes (`fullScan` after timers also asks quiche's
   * iterator). False when quiche said nothing is left to read, datagrams included.
   */
  poll(fullScan: boolean): boolean {
    return this.#poller.poll(this.#readBound, fullScan);
  }

  /** The reader of a stream wants more; true when reading had stopped for it and was resumed. */
  resume(streamId: number): boolean {
    // The reader pulls after every chunk; only a stream whose reading stopped for it has bytes to fetch.
    if (!this.#starved.has(streamId)) return false;
    this.readWebTransport(streamId);
    return true;
  }

  /**
   * Reads a WebTransport stream as far as its reader wants. `knownReadable`: the
   * poller just saw streamReadable() true, so the first check is skipped (one napi call).
   */
  readWebTransport(streamId: number, knownReadable = false): void {
    // Enqueueing can call the reader's pull() synchronously, which lands here again: one loop per stream.
    if (this.#reading.has(streamId)) return;
    this.#reading.add(streamId);
    try {
      this.#readWebTransportOnce(streamId, knownReadable);
    } finally {
      this.#reading.delete(streamId);
    }
  }

  /** The poller's callback; false when the bytes stay in QUIC because nobody wants them yet. */
  #read(streamId: number): boolean {
    if (this.#sessions.sessionOf(streamId) !== undefined) {
      this.readWebTransport(streamId, true);
      return this.#sessions.sessionOf(streamId)?.receiveSide(streamId)?.wanted !== 0;
    }
    // A WebTransport stream waiting for its session stays in QUIC's buffers (flow control bounds it).
    if (this.#h3.isWebTransportStream(streamId)) return false;
    this.#readHttp3(streamId);
    return true;
  }

  /** Reads an HTTP/3 stream until quiche has nothing more, or its bytes turn out to be a WebTransport stream's. */
  #readHttp3(streamId: number): void {
    for (;;) {
      const received = this.#receive(streamId, this.#h3.awaitsStreamHeader(streamId) ? STREAM_HEADER_READ : READ_CHUNK);
      if (received === null) return;
      if (received.kind === 'reset') {
        if (received.code !== undefined) this.#hooks.http3Reset(streamId, received.code);
        return;
      }
      this.#hooks.http3Data(streamId, received.bytes, received.fin);
      if (received.fin || this.#sessions.sessionOf(streamId) !== undefined || this.#h3.isWebTransportStream(streamId)) {
        return;
      }
    }
  }

  #readWebTransportOnce(streamId: number, knownReadable: boolean): void {
    const session = this.#sessions.sessionOf(streamId);
    const receive = session?.receiveSide(streamId);
    if (session === undefined || receive === undefined) return;
    this.#starved.delete(streamId);
    // streamReadable first: a local stream quiche has not created yet (nothing sent) must not be read.
    let checkReadable = !knownReadable;
    for (;;) {
      const wanted = receive.wanted;
      if (wanted <= 0) {
        // The read-ahead or the budget is full: bytes stay in QUIC until the reader pulls (resume).
        if (!receive.done) this.#starved.add(streamId);
        return;
      }
      if (checkReadable && !this.#quic.streamReadable(streamId)) return;
      checkReadable = true;
      const limit = wanted < READ_CHUNK ? wanted : READ_CHUNK;
      const received = this.#receive(streamId, limit);
      if (received === null) return;
      if (received.kind === 'reset') {
        const code = received.code === undefined ? null : (http3CodeToWebTransport(received.code) ?? 0);
        receive.abort(new WebTransportError('stream reset by peer', { streamErrorCode: code }));
        this.#hooks.receiveDone(session, streamId);
        return;
      }
      receive.push(received.bytes);
      if (received.fin) {
        receive.finish();
        this.#hooks.receiveDone(session, streamId);
        return;
      }
      // quiche hands out all contiguous bytes up to the size asked: a short read drained the stream.
      if (received.bytes.length < limit) return;
    }
  }

  /**
   * One streamRecv of at most `limit` bytes; null when quiche has nothing. A FIN
   * or a reset ends the stream's reading (unwatched).
   */
  #receive(streamId: number, limit = READ_CHUNK): Received | null {
    let result: [number, boolean] | null;
    try {
      // A view only when less than a whole chunk is wanted (the budget is nearly full): no object per read otherwise.
      result = this.#quic.streamRecv(streamId, limit < READ_CHUNK ? this.#buffer.subarray(0, limit) : this.#buffer);
    } catch (error) {
      this.#poller.unwatch(streamId);
      return { kind: 'reset', code: quicheStreamErrorCode(error, 'StreamReset') };
    }
    if (result === null) return null;
    const [length, fin] = result;
    if (fin) this.#poller.unwatch(streamId);
    return { kind: 'chunk', bytes: this.#buffer.slice(0, length), fin };
  }
}
