/**
 * One QUIC connection carrying HTTP/3 and WebTransport sessions: the coordinator
 * of the sans-I/O `H3Connection` and the Node parts around one quiche connection:
 * the packet pump (packets in and out, timers), the stream reader and writer,
 * the session table, and the session port the sessions call. It runs the
 * handshake, feeds input to the HTTP/3 core and carries out what comes back.
 * Sockets stay outside: packets come in through `receivePacket` and leave through
 * the `sendPacket` callback.
 *
 * Connection errors thrown by the HTTP/3 core end the connection here, in one
 * place (`#fail`), with the core's wire code (RFC 9114 §8).
 */
import type { Capsule } from '../h3/capsule-reader.ts';
import { H3Connection } from '../h3/connection.ts';
import { H3_ERROR, H3Error } from '../h3/errors.ts';
import type { H3Action, H3Event } from '../h3/events.ts';
import { CAPSULE } from '../h3/frames.ts';
import type { Role } from '../h3/stream-ids.ts';
import type { FieldLine } from '../qpack/field-section.ts';
import { decodeCloseCapsuleValue } from '../webtransport/close-capsule.ts';
import type { WebTransportLimits } from '../webtransport/limits.ts';
import { ReceiveBudget, type ReceiveStats } from '../webtransport/receive-budget.ts';
import type { WebTransportSession } from '../webtransport/session.ts';
import { WebTransportError } from '../webtransport/types.ts';
import { PacketPump } from './packet-pump.ts';
import { type Connection, type HostPort, shutdownStream } from './quiche-config.ts';
import { QuicSessionPort } from './session-port.ts';
import { SessionTable } from './session-table.ts';
import { StreamReader } from './stream-reader.ts';
import { StreamWriter } from './stream-writer.ts';

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

const utf8 = new TextEncoder();

export class H3OverQuic {
  readonly quic: Connection;
  readonly h3: H3Connection;
  readonly local: HostPort;
  readonly remote: HostPort;
  readonly #limits: WebTransportLimits;
  readonly #hooks: ConnectionHooks;
  readonly #sessions: SessionTable;
  readonly #pump: PacketPump;
  readonly #reader: StreamReader;
  readonly #writer: StreamWriter;
  readonly #port: QuicSessionPort;
  readonly #receiveBudget: ReceiveBudget;
  #established = false;

  constructor(options: {
    role: Role;
    quic: Connection;
    local: HostPort;
    remote: HostPort;
    limits: WebTransportLimits;
    hooks: ConnectionHooks;
    sendPacket: (packet: Uint8Array, to: HostPort) => void;
    /** The budget this connection's sits in (a server's, adding up its connections); none for a client. */
    serverBudget?: ReceiveBudget;
  }) {
    const quic = options.quic;
    this.quic = quic;
    this.local = options.local;
    this.remote = options.remote;
    this.#limits = options.limits;
    this.#hooks = options.hooks;
    this.h3 = new H3Connection({ role: options.role, limits: options.limits });
    this.#sessions = new SessionTable(options.limits.maxBufferedStreams);
    this.#receiveBudget = new ReceiveBudget(options.limits.connectionReceiveBudgetBytes, options.serverBudget);
    // The parts call back through hooks bound once here: no closure per packet or chunk.
    this.#pump = new PacketPump(quic, options.local, options.sendPacket, {
      onInput: (fullScan) => this.#process(fullScan),
      beforeSend: () => this.#writer.releaseGathered(),
      onClosed: () => this.#closed(),
    });
    this.#reader = new StreamReader(quic, options.role, this.h3, this.#sessions, {
      http3Data: (streamId, bytes, fin) => this.#handleEvents(this.h3.receiveStreamData(streamId, bytes, fin)),
      http3Reset: (streamId, code) => this.#handleEvents(this.h3.receiveStreamReset(streamId, code)),
      receiveDone: (session, streamId) => this.#port.receiveDone(session, streamId),
    });
    this.#writer = new StreamWriter(quic, {
      onWriteError: (streamId, error) => this.#sessions.sessionOf(streamId)?.sendSide(streamId)?.abort(error),
      onFinWritten: (streamId) => this.#port.finWritten(streamId),
      onWork: () => this.#pump.queueFlush(),
    });
    this.#port = new QuicSessionPort({
      quic,
      h3: this.h3,
      sessions: this.#sessions,
      reader: this.#reader,
      writer: this.#writer,
      pump: this.#pump,
      receiveBudget: this.#receiveBudget,
      applyH3Actions: () => this.#applyActions(),
    });
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** The QUIC handshake is done. */
  get isEstablished(): boolean {
    return this.#established;
  }

  get isClosed(): boolean {
    return this.quic.isClosed();
  }

  /** What this connection's sessions refused, dropped and hold for their applications. */
  get receiveStats(): ReceiveStats {
    return this.#receiveBudget.stats();
  }

  /** Feeds one UDP datagram from the peer. */
  receivePacket(packet: Uint8Array, from: HostPort): void {
    this.#pump.receive(packet, from);
  }

  /** Sends whatever quiche has queued and re-arms the timer. */
  flush(): void {
    this.#pump.flush();
  }

  /**
   * Graceful shutdown: GOAWAY (no new requests), then every session closed with
   * CLOSE_WEBTRANSPORT_SESSION. The caller closes the connection a moment later.
   */
  shutdown(reason: string): void {
    if (this.quic.isClosed() || !this.#established) return;
    this.h3.goaway(this.#reader.nextPeerBidiStream);
    for (const session of this.#sessions.sessions()) session.close({ closeCode: 0, reason });
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
    this.#port.endAll(new WebTransportError('connection closed', { source: 'session' }));
    this.flush();
  }

  /** Stops the timers: the connection will not be driven any more (its socket is closing). */
  dispose(): void {
    this.#pump.dispose();
  }

  /** Registers a session on its CONNECT stream; streams that waited for it are attached once it is established. */
  addSession(session: WebTransportSession): void {
    this.#sessions.add(session);
    session.attach(this.#port);
    // Messaging sessions sit quiet for long stretches: a PING every third of the idle timeout.
    this.#pump.startKeepAlive(
      Math.max(100, Math.floor(this.#limits.idleTimeoutMs / 3)),
      () => this.#sessions.size > 0 && !this.quic.isClosed(),
    );
  }

  /** Marks a session established (after the 2xx) and delivers buffered streams. */
  establishSession(session: WebTransportSession, protocol: string): void {
    this.h3.establishSession(session.sessionId);
    session.handleReady(protocol);
    this.#port.deliverWaiting(session);
    this.#process();
  }

  /** Sends a response head on a request stream (server). */
  respond(streamId: number, fields: FieldLine[], fin: boolean): void {
    // A final answer without a body refuses the session: streams that waited for it are refused too.
    if (fin) this.#port.refuseWaiting(streamId, H3_ERROR.WT_BUFFERED_STREAM_REJECTED);
    this.h3.sendHeaders(streamId, fields, fin);
    this.#applyActions();
    this.#pump.queueFlush();
  }

  /** Sends a request head on a new stream (client) and returns its id. */
  request(fields: FieldLine[]): number {
    const streamId = this.h3.openRequest(fields);
    this.#reader.watch(streamId);
    this.#applyActions();
    this.#pump.queueFlush();
    return streamId;
  }

  /** Resets a request stream (e.g. a session refused after its head was read). */
  resetRequest(streamId: number, code: number): void {
    shutdownStream(this.quic, streamId, code);
    this.#pump.queueFlush();
  }

  // ---- Input: what the pump and the reader report. ----

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
        if (this.#reader.poll(fullScan)) this.#readDatagrams();
        this.#writer.retry();
        this.#port.wakeOpenWaiters();
      }
    } catch (error) {
      this.#fail(error);
    }
    // Sent after the application reacted, so ACKs ride on the reply instead of a packet of their own.
    this.#pump.queueFlush();
  }

  /** The single place where connection errors end the connection (RFC 9114 §8). */
  #fail(error: unknown): void {
    const h3Error =
      error instanceof H3Error
        ? error
        : new H3Error('H3_INTERNAL_ERROR', error instanceof Error ? error.message : 'internal error');
    this.close(h3Error.wireCode, h3Error.message.slice(0, 100));
  }

  /** quiche closed the connection: sessions end with the reason, and nobody waits for stream credit any more. */
  #closed(): void {
    const peer = this.quic.peerError();
    const local = this.quic.localError();
    const error = peer ?? local;
    const message =
      error === null
        ? 'connection closed'
        : `connection closed by ${peer !== null ? 'peer' : 'us'} with 0x${error.errorCode.toString(16)}`;
    this.#port.endAll(new WebTransportError(message, { source: 'session' }));
    this.#port.failOpenWaiters(message);
    // Streams still waiting for a session die with the connection: what they held leaves the server's sum.
    this.#receiveBudget.detach();
    this.#hooks.onClosed?.(this);
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
        case 'request-end':
          // The peer finished the CONNECT stream: the session is over (draft §5); finish ours too.
          if (this.#sessions.has(event.streamId)) {
            this.#port.endSession(event.streamId, this.#sessions.closeInfoOf(event.streamId));
            this.h3.finish(event.streamId);
          }
          this.#hooks.onRequestEnd?.(this, event.streamId);
          // The peer's side is finished: nothing more can arrive, so its HTTP/3 state can go.
          this.h3.forget(event.streamId);
          break;
        case 'request-reset':
          if (this.#sessions.has(event.streamId)) {
            this.#port.endSession(
              event.streamId,
              new WebTransportError('session reset by peer', { source: 'session' }),
            );
          }
          this.h3.forget(event.streamId);
          break;
        case 'webtransport-stream':
          this.#port.incoming(event.sessionId, event);
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
      this.#sessions.recordClose(streamId, decodeCloseCapsuleValue(capsule.value, this.#limits.maxCloseReasonBytes));
    } else if (capsule.type === CAPSULE.DATAGRAM) {
      this.#sessions.get(streamId)?.handleDatagram(capsule.value);
    }
    // DRAIN_WEBTRANSPORT_SESSION and unknown capsules: nothing to do (RFC 9297 §3.2).
  }

  #applyActions(): void {
    for (const action of this.h3.takeActions()) this.#apply(action);
  }

  #apply(action: H3Action): void {
    if (action.type === 'reset') {
      shutdownStream(this.quic, action.streamId, action.code);
      return;
    }
    // HTTP/3's own writes (control stream, heads, capsules) are small; they queue behind flow control.
    // Not gathered: heads and capsules keep their order relative to stream data sent right after.
    this.#writer.writeNow(action.streamId, action.data, action.fin).catch(() => {});
  }
}
