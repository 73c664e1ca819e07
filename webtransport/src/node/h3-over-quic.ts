/**
 * One QUIC connection carrying HTTP/3 and WebTransport sessions: the glue
 * between quiche (bytes in and out of QUIC streams and datagrams), the sans-I/O
 * `H3Connection`, and the `WebTransportSession` objects the application holds.
 * Sockets stay outside: packets come in through `receivePacket` and leave
 * through the `sendPacket` callback.
 *
 * Connection errors thrown by the HTTP/3 core end the connection here, in one
 * place (`#fail`), with the core's wire code (RFC 9114 §8).
 */
import type { Capsule } from '../h3/capsule-reader.ts';
import { type H3Action, H3Connection, type H3Event, type Role } from '../h3/connection.ts';
import { H3_ERROR, H3Error } from '../h3/errors.ts';
import { CAPSULE } from '../h3/frames.ts';
import type { FieldLine } from '../qpack/field-section.ts';
import { varintLength } from '../varint.ts';
import { decodeCloseCapsuleValue, encodeCloseCapsuleValue } from '../webtransport/close-capsule.ts';
import { http3CodeToWebTransport, webTransportCodeToHttp3 } from '../webtransport/error-codes.ts';
import type { WebTransportLimits } from '../webtransport/limits.ts';
import type { SessionPort, WebTransportSession } from '../webtransport/session.ts';
import { type WebTransportCloseInfo, WebTransportError } from '../webtransport/types.ts';
import { ConnectionClock } from './connection-clock.ts';
import {
  type Connection,
  type HostPort,
  MAX_SEND_UDP_PAYLOAD,
  quiche,
  quicheStreamErrorCode,
} from './quiche-config.ts';
import { StreamPoller } from './stream-poller.ts';
import { StreamWriter } from './stream-writer.ts';
import { type WaitingStream, WaitingStreams } from './waiting-streams.ts';

export interface ConnectionHooks {
  /** QUIC handshake done (the client checks the certificate here and closes on failure). */
  onEstablished?(connection: H3OverQuic): void;
  /** The peer's SETTINGS arrived. */
  onSettings?(connection: H3OverQuic, settings: ReadonlyMap<number, number>): void;
  /** Request head (server) or response head (client) on a request stream. */
  onHeaders?(connection: H3OverQuic, streamId: number, fields: FieldLine[]): void;
  /** The peer finished its side of a request stream (for a CONNECT stream: after the session ended). */
  onRequestEnd?(connection: H3OverQuic, streamId: number): void;
  /** The QUIC connection is closed and drained. */
  onClosed?(connection: H3OverQuic): void;
}

const READ_CHUNK = 64 * 1024;
const utf8 = new TextEncoder();

export class H3OverQuic implements SessionPort {
  readonly quic: Connection;
  readonly h3: H3Connection;
  readonly local: HostPort;
  readonly remote: HostPort;
  readonly #limits: WebTransportLimits;
  readonly #hooks: ConnectionHooks;
  readonly #sendPacket: (packet: Uint8Array, to: HostPort) => void;
  readonly #sessions = new Map<number, WebTransportSession>();
  /** WebTransport stream id → its session. */
  readonly #streamSession = new Map<number, WebTransportSession>();
  readonly #writer: StreamWriter;
  /** Streams that arrived before their session (draft-ietf-webtrans-http3 §4.6). */
  readonly #waiting: WaitingStreams;
  readonly #closeInfo = new Map<number, WebTransportCloseInfo>();
  readonly #openWaiters: { bidirectional: boolean; resolve(): void; reject(error: unknown): void }[] = [];
  readonly #readBuffer = new Uint8Array(READ_CHUNK);
  readonly #reading = new Set<number>();
  /** WebTransport streams whose reading stopped because the reader's queue was full. */
  readonly #starved = new Set<number>();
  readonly #poller: StreamPoller;
  readonly #clock: ConnectionClock;
  readonly #readStreamBound = (streamId: number): boolean => this.#readStream(streamId);
  #flushQueued = false;
  #spare: Buffer | undefined;
  #established = false;
  #closedNotified = false;
  #disposed = false;

  constructor(options: {
    role: Role;
    quic: Connection;
    local: HostPort;
    remote: HostPort;
    limits: WebTransportLimits;
    hooks: ConnectionHooks;
    sendPacket: (packet: Uint8Array, to: HostPort) => void;
  }) {
    this.quic = options.quic;
    this.local = options.local;
    this.remote = options.remote;
    this.#limits = options.limits;
    this.#hooks = options.hooks;
    this.#sendPacket = options.sendPacket;
    this.h3 = new H3Connection({ role: options.role, limits: options.limits });
    this.#waiting = new WaitingStreams(options.limits.maxBufferedStreams);
    this.#poller = new StreamPoller(options.quic, options.role);
    // Timers follow loss and reordering: the moment to look at every stream.
    this.#clock = new ConnectionClock(options.quic, () => this.#process(true));
    this.#writer = new StreamWriter(options.quic, {
      onWriteError: (streamId, error) => this.#streamSession.get(streamId)?.sendSide(streamId)?.abort(error),
      onFinWritten: (streamId) => this.#finWritten(streamId),
      onWork: () => this.#queueFlush(),
    });
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  get isClosed(): boolean {
    return this.quic.isClosed();
  }

  /** Feeds one UDP datagram from the peer. */
  receivePacket(packet: Uint8Array, from: HostPort): void {
    try {
      this.quic.recv(packet, { from, to: this.local });
    } catch {
      // quiche already recorded the error (and queued CONNECTION_CLOSE when it was fatal).
    }
    this.#process();
  }

  /** Sends whatever quiche has queued and re-arms the timer. */
  flush(): void {
    this.#flushQueued = false;
    this.#writer.releaseGathered();
    for (;;) {
      // A fresh buffer per packet: dgram sends are asynchronous and keep a reference.
      const packet = this.#spare ?? Buffer.allocUnsafe(MAX_SEND_UDP_PAYLOAD);
      this.#spare = undefined;
      let result: ReturnType<Connection['send']>;
      try {
        result = this.quic.send(packet);
      } catch {
        break;
      }
      if (result === null) {
        this.#spare = packet; // nothing was written into it: keep it for next time
        break;
      }
      const [length, info] = result;
      this.#sendPacket(packet.subarray(0, length), info.to);
    }
    this.#armTimer();
  }

  /**
   * Graceful shutdown: GOAWAY (no new requests), then every session closed with
   * CLOSE_WEBTRANSPORT_SESSION. The caller closes the connection a moment later.
   */
  shutdown(reason: string): void {
    if (this.quic.isClosed() || !this.#established) return;
    this.h3.goaway(this.#poller.nextPeerBidiStream);
    for (const session of [...this.#sessions.values()]) session.close({ closeCode: 0, reason });
    this.#applyActions();
    this.flush();
  }

  /** Closes the whole connection (CONNECTION_CLOSE with an HTTP/3 code). */
  close(code: number = H3_ERROR.H3_NO_ERROR, reason = ''): void {
    try {
      this.quic.close(true, code, utf8.encode(reason));
    } catch {
      // already closing
    }
    this.#endAllSessions(new WebTransportError('connection closed', { source: 'session' }));
    this.flush();
  }

  /** Stops the timer: the connection will not be driven any more (its socket is closing). */
  dispose(): void {
    this.#clock.stop();
    this.#disposed = true;
  }

  /** Registers a session on its CONNECT stream; streams that waited for it are attached now. */
  addSession(session: WebTransportSession): void {
    this.#sessions.set(session.sessionId, session);
    session.attach(this);
    // Messaging sessions sit quiet for long stretches: a PING every third of the idle timeout.
    this.#clock.startKeepAlive(
      Math.max(100, Math.floor(this.#limits.idleTimeoutMs / 3)),
      () => this.#sessions.size > 0 && !this.quic.isClosed(),
      () => this.flush(),
    );
  }

  /** Marks a session established (after the 2xx) and delivers buffered streams. */
  establishSession(session: WebTransportSession, protocol: string): void {
    this.h3.establishSession(session.sessionId);
    session.handleReady(protocol);
    for (const stream of this.#waiting.take(session.sessionId)) this.#attachIncoming(session, stream);
    this.#process();
  }

  /** Sends a response head on a request stream (server). */
  respond(streamId: number, fields: FieldLine[], fin: boolean): void {
    // A final answer without a body refuses the session: streams that waited for it are refused too.
    if (fin) this.#dropBuffered(streamId, H3_ERROR.WT_BUFFERED_STREAM_REJECTED);
    this.h3.sendHeaders(streamId, fields, fin);
    this.#applyActions();
    this.#queueFlush();
  }

  /** Sends a request head on a new stream (client) and returns its id. */
  request(fields: FieldLine[]): number {
    const streamId = this.h3.openRequest(fields);
    this.#poller.watch(streamId);
    this.#applyActions();
    this.#queueFlush();
    return streamId;
  }

  /** Resets a request stream (e.g. a session refused after its head was read). */
  resetRequest(streamId: number, code: number): void {
    this.#shutdown(streamId, code);
    this.#queueFlush();
  }

  // ---- SessionPort: what WebTransportSession and its streams call. ----

  async openStream(sessionId: number, bidirectional: boolean): Promise<number> {
    const session = this.#sessions.get(sessionId);
    if (session === undefined) throw new WebTransportError('session is closed', { source: 'session' });
    while ((bidirectional ? this.quic.peerStreamsLeftBidi() : this.quic.peerStreamsLeftUni()) === 0) {
      if (this.quic.isClosed() || this.quic.isDraining()) {
        throw new WebTransportError('connection closed', { source: 'session' });
      }
      // Wait for MAX_STREAMS from the peer.
      await new Promise<void>((resolve, reject) => this.#openWaiters.push({ bidirectional, resolve, reject }));
    }
    const { streamId, header } = this.h3.openWebTransportStream(sessionId, bidirectional);
    if (bidirectional) this.#poller.watch(streamId);
    this.#streamSession.set(streamId, session);
    // Written now, not gathered: quiche must create the stream before the next open counts stream credit.
    await this.#writer.writeNow(streamId, header, false);
    return streamId;
  }

  write(streamId: number, data: Uint8Array, fin: boolean): Promise<void> {
    return this.#writer.write(streamId, data, fin);
  }

  reset(streamId: number, code: number): void {
    this.#writer.reject(streamId, new WebTransportError('stream reset', { streamErrorCode: code }));
    // Send what is queued first (at least the stream header), so the peer can tie the reset to its session.
    this.flush();
    try {
      this.quic.streamShutdown(streamId, quiche.Shutdown.Write, webTransportCodeToHttp3(code));
    } catch {
      // stream already gone
    }
    this.#streamDone(streamId);
    this.#queueFlush();
  }

  stopSending(streamId: number, code: number): void {
    this.#poller.unwatch(streamId);
    try {
      this.quic.streamShutdown(streamId, quiche.Shutdown.Read, webTransportCodeToHttp3(code));
    } catch {
      // stream already gone
    }
    this.#streamDone(streamId);
    this.#queueFlush();
  }

  resume(streamId: number): void {
    // The reader pulls after every chunk; only a stream whose reading stopped for it has bytes to fetch.
    if (!this.#starved.has(streamId)) return;
    this.#readWebTransportStream(streamId);
    this.#queueFlush();
  }

  sendDatagram(sessionId: number, payload: Uint8Array): void {
    try {
      this.quic.dgramSend(this.h3.encodeDatagram(sessionId, payload));
    } catch {
      // Queue full or too large: datagrams may be dropped (RFC 9221 §5).
    }
    this.#queueFlush();
  }

  maxDatagramSize(sessionId: number): number {
    const writable = this.quic.dgramMaxWritableLen() ?? 1200;
    // The quarter stream id prefixes the payload (RFC 9297 §2.1).
    return Math.max(0, writable - varintLength(sessionId / 4));
  }

  closeSession(sessionId: number, info: WebTransportCloseInfo): void {
    this.h3.sendCapsule(sessionId, CAPSULE.CLOSE_WEBTRANSPORT_SESSION, encodeCloseCapsuleValue(info), true);
    this.#applyActions();
    // The capsule leaves first: quiche puts RESET_STREAM ahead of STREAM data in a packet, and a peer
    // that sees WT_SESSION_GONE resets before the capsule reports a lost connection, not a clean close.
    this.flush();
    this.#endSession(sessionId, info);
    this.#queueFlush();
  }

  // ---- Internals. ----

  #queueFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    // After the current I/O phase: writes made while handling this batch of packets share packets.
    setImmediate(this.#flushIfQueued);
  }

  /** Bound once: no closure per scheduled flush. */
  readonly #flushIfQueued = (): void => {
    if (this.#flushQueued) this.flush();
  };

  #armTimer(): void {
    // A closed connection has no deadline: isClosed() (a napi call) is asked only when arm() found none.
    if (!this.#disposed && this.#clock.arm()) return;
    if (this.#disposed || this.quic.isClosed()) {
      this.#clock.stop();
      if (!this.#disposed) this.#notifyClosed();
    }
  }

  #notifyClosed(): void {
    if (this.#closedNotified) return;
    this.#closedNotified = true;
    this.#clock.stopKeepAlive();
    const peer = this.quic.peerError();
    const local = this.quic.localError();
    const error = peer ?? local;
    const message =
      error === null
        ? 'connection closed'
        : `connection closed by ${peer !== null ? 'peer' : 'us'} with 0x${error.errorCode.toString(16)}`;
    this.#endAllSessions(new WebTransportError(message, { source: 'session' }));
    for (const waiter of this.#openWaiters.splice(0))
      waiter.reject(new WebTransportError(message, { source: 'session' }));
    this.#hooks.onClosed?.(this);
  }

  /** Runs after every input (packet, timer): handshake, streams, datagrams, then sends. */
  #process(fullScan = false): void {
    try {
      if (!this.#established && (this.quic.isEstablished() || this.quic.isInEarlyData())) {
        this.#established = true;
        this.#hooks.onEstablished?.(this);
        if (!this.quic.isClosed()) {
          this.h3.start();
          this.#applyActions();
        }
      }
      if (this.#established && !this.quic.isClosed()) {
        // isReadable() false (the usual case after an echo's bytes were read) also means no datagrams wait.
        if (this.#poller.poll(this.#readStreamBound, fullScan)) this.#readDatagrams();
        this.#writer.retry();
        this.#wakeOpenWaiters();
      }
    } catch (error) {
      this.#fail(error);
    }
    // Sent after the application reacted, so ACKs ride on the reply instead of a packet of their own.
    this.#queueFlush();
  }

  /** The single place where connection errors end the connection (RFC 9114 §8). */
  #fail(error: unknown): void {
    const h3Error =
      error instanceof H3Error
        ? error
        : new H3Error('H3_INTERNAL_ERROR', error instanceof Error ? error.message : 'internal error');
    this.close(h3Error.wireCode, h3Error.message.slice(0, 100));
  }

  /** Reads one stream the poller found readable; false when its bytes stay in QUIC because nobody wants them yet. */
  #readStream(streamId: number): boolean {
    if (this.#streamSession.has(streamId)) {
      this.#readWebTransportStream(streamId, true);
      return this.#streamSession.get(streamId)?.receiveSide(streamId)?.wanted !== 0;
    }
    if (this.h3.isWebTransportStream(streamId)) {
      // A WebTransport stream waiting for its session stays in QUIC's buffers (flow control bounds it).
      return false;
    }
    this.#readHttp3Stream(streamId);
    return true;
  }

  /** Reads an HTTP/3 stream (control, QPACK, request, or a new stream not yet classified) eagerly. */
  #readHttp3Stream(streamId: number): void {
    for (;;) {
      let result: [number, boolean] | null;
      try {
        result = this.quic.streamRecv(streamId, this.#readBuffer);
      } catch (error) {
        this.#poller.unwatch(streamId);
        const code = quicheStreamErrorCode(error, 'StreamReset');
        if (code !== undefined) this.#handleEvents(this.h3.receiveStreamReset(streamId, code));
        return;
      }
      if (result === null) return;
      const [length, fin] = result;
      if (fin) this.#poller.unwatch(streamId);
      this.#handleEvents(this.h3.receiveStreamData(streamId, this.#readBuffer.slice(0, length), fin));
      this.#applyActions();
      if (fin || this.#streamSession.has(streamId) || this.h3.isWebTransportStream(streamId)) return;
    }
  }

  /** Reads a WebTransport stream only as far as its reader wants (backpressure). */
  #readWebTransportStream(streamId: number, knownReadable = false): void {
    // Enqueueing can call the reader's pull() synchronously, which lands here again: one loop per stream.
    if (this.#reading.has(streamId)) return;
    this.#reading.add(streamId);
    try {
      this.#readWebTransportStreamOnce(streamId, knownReadable);
    } finally {
      this.#reading.delete(streamId);
    }
  }

  /** `knownReadable`: the poller just saw streamReadable() true, so the first check is skipped (one napi call). */
  #readWebTransportStreamOnce(streamId: number, knownReadable: boolean): void {
    const session = this.#streamSession.get(streamId);
    const receive = session?.receiveSide(streamId);
    if (session === undefined || receive === undefined) return;
    this.#starved.delete(streamId);
    // streamReadable first: a local stream quiche has not created yet (nothing sent) must not be read.
    let checkReadable = !knownReadable;
    for (;;) {
      if (receive.wanted <= 0) {
        // The reader's queue is full: bytes stay in QUIC until it pulls (resume).
        if (!receive.done) this.#starved.add(streamId);
        return;
      }
      if (checkReadable && !this.quic.streamReadable(streamId)) return;
      checkReadable = true;
      let result: [number, boolean] | null;
      try {
        result = this.quic.streamRecv(streamId, this.#readBuffer);
      } catch (error) {
        this.#poller.unwatch(streamId);
        const code = quicheStreamErrorCode(error, 'StreamReset');
        receive.abort(
          new WebTransportError('stream reset by peer', {
            streamErrorCode: code === undefined ? null : (http3CodeToWebTransport(code) ?? 0),
          }),
        );
        this.#receiveDone(session, streamId);
        return;
      }
      if (result === null) return;
      const [length, fin] = result;
      receive.push(this.#readBuffer.slice(0, length));
      if (fin) {
        this.#poller.unwatch(streamId);
        receive.finish();
        this.#receiveDone(session, streamId);
        return;
      }
      // quiche hands out all contiguous bytes up to the buffer's size: a short read drained the stream.
      if (length < this.#readBuffer.length) return;
    }
  }

  #readDatagrams(): void {
    for (;;) {
      const datagram = this.quic.dgramRecvVec();
      if (datagram === null) return;
      this.#handleEvents(this.h3.receiveDatagram(datagram));
    }
  }

  #handleEvents(events: H3Event[]): void {
    for (const event of events) {
      switch (event.type) {
        case 'settings':
          this.#hooks.onSettings?.(this, event.settings);
          break;
        case 'headers':
          this.#hooks.onHeaders?.(this, event.streamId, event.fields);
          break;
        case 'capsule':
          this.#handleCapsule(event.streamId, event.capsule);
          break;
        case 'request-end': {
          // The peer finished the CONNECT stream: the session is over (draft §5); finish ours too.
          if (this.#sessions.has(event.streamId)) {
            const info = this.#closeInfo.get(event.streamId) ?? { closeCode: 0, reason: '' };
            this.#endSession(event.streamId, info);
            this.h3.finish(event.streamId);
          }
          this.#hooks.onRequestEnd?.(this, event.streamId);
          // The peer's side is finished: nothing more can arrive, so its HTTP/3 state can go.
          this.h3.forget(event.streamId);
          break;
        }
        case 'request-reset':
          if (this.#sessions.has(event.streamId)) {
            this.#endSession(event.streamId, new WebTransportError('session reset by peer', { source: 'session' }));
          }
          this.h3.forget(event.streamId);
          break;
        case 'webtransport-stream':
          this.#handleIncomingStream(event);
          break;
        case 'datagram':
          this.#sessions.get(event.sessionId)?.handleDatagram(event.payload);
          break;
        case 'body':
        case 'goaway':
          // Request bodies outside sessions are not used; GOAWAY: no new sessions are opened by us anyway.
          break;
      }
    }
    this.#applyActions();
  }

  #handleCapsule(streamId: number, capsule: Capsule): void {
    if (capsule.type === CAPSULE.CLOSE_WEBTRANSPORT_SESSION) {
      this.#closeInfo.set(streamId, decodeCloseCapsuleValue(capsule.value, this.#limits.maxCloseReasonBytes));
    } else if (capsule.type === CAPSULE.DATAGRAM) {
      this.#sessions.get(streamId)?.handleDatagram(capsule.value);
    }
    // DRAIN_WEBTRANSPORT_SESSION and unknown capsules: nothing to do (RFC 9297 §3.2).
  }

  #handleIncomingStream(event: Extract<H3Event, { type: 'webtransport-stream' }>): void {
    const stream: WaitingStream = {
      streamId: event.streamId,
      bidirectional: event.bidirectional,
      data: event.data,
      fin: event.fin,
    };
    const session = this.#sessions.get(event.sessionId);
    if (session !== undefined && session.state === 'connected') {
      this.#attachIncoming(session, stream);
      return;
    }
    // Streams may overtake their session's response: keep them until it is established (§4.6).
    const pending = session === undefined || session.state === 'connecting';
    if (pending && this.#waiting.hold(event.sessionId, stream)) return;
    this.#shutdown(event.streamId, H3_ERROR.WT_BUFFERED_STREAM_REJECTED);
  }

  #attachIncoming(session: WebTransportSession, stream: WaitingStream): void {
    const receive = session.handleIncomingStream(stream.streamId, stream.bidirectional);
    if (receive === undefined) {
      this.#shutdown(stream.streamId, H3_ERROR.WT_SESSION_GONE);
      return;
    }
    this.#streamSession.set(stream.streamId, session);
    receive.push(stream.data);
    if (stream.fin) {
      receive.finish();
      this.#receiveDone(session, stream.streamId);
    } else {
      this.#readWebTransportStream(stream.streamId);
    }
  }

  #dropBuffered(sessionId: number, code: number): void {
    for (const stream of this.#waiting.take(sessionId)) this.#shutdown(stream.streamId, code);
  }

  #endSession(sessionId: number, outcome: WebTransportCloseInfo | WebTransportError): void {
    this.#dropBuffered(sessionId, H3_ERROR.WT_SESSION_GONE);
    const session = this.#sessions.get(sessionId);
    if (session === undefined) return;
    this.#sessions.delete(sessionId);
    this.#closeInfo.delete(sessionId);
    // draft-ietf-webtrans-http3 §5: streams of a terminated session are reset with WT_SESSION_GONE.
    for (const streamId of session.streamIds()) {
      this.#writer.reject(streamId, new WebTransportError('session closed', { source: 'session' }));
      this.#shutdown(streamId, H3_ERROR.WT_SESSION_GONE);
    }
    for (const [streamId, owner] of this.#streamSession) {
      if (owner !== session) continue;
      this.#streamSession.delete(streamId);
      this.#starved.delete(streamId);
    }
    session.handleClosed(outcome);
  }

  #endAllSessions(error: WebTransportError): void {
    for (const sessionId of [...this.#sessions.keys()]) this.#endSession(sessionId, error);
  }

  #applyActions(): void {
    for (const action of this.h3.takeActions()) this.#apply(action);
  }

  #apply(action: H3Action): void {
    if (action.type === 'reset') {
      this.#shutdown(action.streamId, action.code);
      return;
    }
    // HTTP/3's own writes (control stream, heads, capsules) are small; they queue behind flow control.
    // Not gathered: heads and capsules keep their order relative to stream data sent right after.
    this.#writer.writeNow(action.streamId, action.data, action.fin).catch(() => {});
  }

  /** RESET_STREAM and STOP_SENDING with an HTTP/3 code, ignoring directions that do not exist. */
  #shutdown(streamId: number, code: number): void {
    for (const direction of [quiche.Shutdown.Read, quiche.Shutdown.Write]) {
      try {
        this.quic.streamShutdown(streamId, direction, code);
      } catch {
        // That direction is not ours (uni stream) or already finished.
      }
    }
  }

  /** Our FIN went out: the stream is forgotten once its receive side is done too. */
  #finWritten(streamId: number): void {
    const session = this.#streamSession.get(streamId);
    if (session !== undefined && (session.receiveSide(streamId)?.done ?? true)) {
      this.#forget(session, streamId);
    }
  }

  #receiveDone(session: WebTransportSession, streamId: number): void {
    if (session.sendSide(streamId)?.done ?? true) {
      this.#forget(session, streamId);
    }
  }

  #streamDone(streamId: number): void {
    const session = this.#streamSession.get(streamId);
    if (session === undefined) return;
    if ((session.sendSide(streamId)?.done ?? true) && (session.receiveSide(streamId)?.done ?? true)) {
      this.#forget(session, streamId);
    }
  }

  #forget(session: WebTransportSession, streamId: number): void {
    this.#poller.unwatch(streamId);
    this.#starved.delete(streamId);
    session.forgetStream(streamId);
    this.#streamSession.delete(streamId);
    this.h3.forget(streamId);
  }

  #wakeOpenWaiters(): void {
    if (this.#openWaiters.length === 0) return;
    for (const waiter of this.#openWaiters.splice(0)) waiter.resolve();
  }
}
