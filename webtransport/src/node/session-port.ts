/**
 * The SessionPort of one quiche connection: what WebTransport sessions and their
 * streams call (open, write, reset, stop sending, resume reading, datagrams,
 * close), and the lifetime of their streams: incoming ones attached to their
 * session or held until it is established (draft-ietf-webtrans-http3 §4.6),
 * refused, reset when their session ends (§5), and let go once finished both ways.
 * It owns the connection's receive budget, which the sessions' budgets sit in and
 * which the streams waiting for their session are charged to.
 */
import type { H3Connection } from '../h3/connection.ts';
import { H3_ERROR } from '../h3/errors.ts';
import { CAPSULE } from '../h3/frames.ts';
import { varintLength } from '../varint.ts';
import { encodeCloseCapsuleValue } from '../webtransport/close-capsule.ts';
import { webTransportCodeToHttp3 } from '../webtransport/error-codes.ts';
import { queuedCost, type ReceiveBudget } from '../webtransport/receive-budget.ts';
import type { SessionPort, WebTransportSession } from '../webtransport/session.ts';
import { type WebTransportCloseInfo, WebTransportError } from '../webtransport/types.ts';
import type { PacketPump } from './packet-pump.ts';
import { type Connection, quiche, type Shutdown, shutdownStream } from './quiche-config.ts';
import type { SessionTable } from './session-table.ts';
import type { StreamReader } from './stream-reader.ts';
import type { StreamWriter } from './stream-writer.ts';
import type { WaitingStream } from './waiting-streams.ts';

export interface SessionPortParts {
  readonly quic: Connection;
  readonly h3: H3Connection;
  readonly sessions: SessionTable;
  readonly reader: StreamReader;
  readonly writer: StreamWriter;
  readonly pump: PacketPump;
  /** The connection's receive budget (connectionReceiveBudgetBytes). */
  readonly receiveBudget: ReceiveBudget;
  /** Carries out what the HTTP/3 core queued (after a capsule is sent). */
  readonly applyH3Actions: () => void;
}

interface OpenWaiter {
  resolve(): void;
  reject(error: unknown): void;
}

export class QuicSessionPort implements SessionPort {
  readonly receiveBudget: ReceiveBudget;
  readonly #quic: Connection;
  readonly #h3: H3Connection;
  readonly #sessions: SessionTable;
  readonly #reader: StreamReader;
  readonly #writer: StreamWriter;
  readonly #pump: PacketPump;
  readonly #applyH3Actions: () => void;
  /** Stream opens waiting for the peer's MAX_STREAMS. */
  readonly #openWaiters: OpenWaiter[] = [];

  constructor(parts: SessionPortParts) {
    this.#quic = parts.quic;
    this.#h3 = parts.h3;
    this.#sessions = parts.sessions;
    this.#reader = parts.reader;
    this.#writer = parts.writer;
    this.#pump = parts.pump;
    this.receiveBudget = parts.receiveBudget;
    this.#applyH3Actions = parts.applyH3Actions;
  }

  // ---- SessionPort ----

  async openStream(sessionId: number, bidirectional: boolean): Promise<number> {
    const session = this.#sessions.get(sessionId);
    if (session === undefined) throw new WebTransportError('session is closed', { source: 'session' });
    const quic = this.#quic;
    while ((bidirectional ? quic.peerStreamsLeftBidi() : quic.peerStreamsLeftUni()) === 0) {
      if (quic.isClosed() || quic.isDraining()) throw new WebTransportError('connection closed', { source: 'session' });
      // Wait for MAX_STREAMS from the peer.
      await new Promise<void>((resolve, reject) => this.#openWaiters.push({ resolve, reject }));
    }
    const { streamId, header } = this.#h3.openWebTransportStream(sessionId, bidirectional);
    if (bidirectional) this.#reader.watch(streamId);
    this.#sessions.bindStream(streamId, session);
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
    this.#pump.flush();
    this.#shutdownOneWay(streamId, quiche.Shutdown.Write, code);
  }

  stopSending(streamId: number, code: number): void {
    this.#reader.unwatch(streamId);
    this.#shutdownOneWay(streamId, quiche.Shutdown.Read, code);
  }

  resume(streamId: number): void {
    if (this.#reader.resume(streamId)) this.#pump.queueFlush();
  }

  sendDatagram(sessionId: number, payload: Uint8Array): void {
    try {
      this.#quic.dgramSend(this.#h3.encodeDatagram(sessionId, payload));
    } catch {
      // Queue full or too large: datagrams may be dropped (RFC 9221 §5).
    }
    this.#pump.queueFlush();
  }

  maxDatagramSize(sessionId: number): number {
    const writable = this.#quic.dgramMaxWritableLen() ?? 1200;
    // The quarter stream id prefixes the payload (RFC 9297 §2.1).
    return Math.max(0, writable - varintLength(sessionId / 4));
  }

  closeSession(sessionId: number, info: WebTransportCloseInfo): void {
    this.#h3.sendCapsule(sessionId, CAPSULE.CLOSE_WEBTRANSPORT_SESSION, encodeCloseCapsuleValue(info), true);
    this.#applyH3Actions();
    // The capsule leaves first: quiche puts RESET_STREAM ahead of STREAM data in a packet, and a peer
    // that sees WT_SESSION_GONE resets before the capsule reports a lost connection, not a clean close.
    this.#pump.flush();
    this.endSession(sessionId, info);
    this.#pump.queueFlush();
  }

  // ---- Sessions and their streams, as the connection reports them. ----

  /** A new stream the peer opened for `sessionId` (its header read): attached, held (§4.6), or refused. */
  incoming(sessionId: number, stream: WaitingStream): void {
    const session = this.#sessions.get(sessionId);
    if (session !== undefined && session.state === 'connected') {
      this.#attach(session, stream);
      return;
    }
    // Streams may overtake their session's response: keep them until it is established,
    // their first bytes charged to the connection.
    const pending = session === undefined || session.state === 'connecting';
    const cost = queuedCost(stream.data.byteLength);
    if (pending && this.receiveBudget.fits(cost) && this.#sessions.hold(sessionId, stream)) {
      this.receiveBudget.charge(cost);
      return;
    }
    this.receiveBudget.streamRefused(stream.data.byteLength, false);
    this.#shutDown(stream.streamId, H3_ERROR.WT_BUFFERED_STREAM_REJECTED);
  }

  /** The session is established: the streams that waited for it are delivered. */
  deliverWaiting(session: WebTransportSession): void {
    for (const stream of this.#takeWaiting(session.sessionId)) this.#attach(session, stream);
  }

  /** The session will not come (refused) or is gone: the streams that waited for it are refused with `code`. */
  refuseWaiting(sessionId: number, code: number): void {
    for (const stream of this.#takeWaiting(sessionId)) {
      this.receiveBudget.streamRefused(stream.data.byteLength, false);
      this.#shutDown(stream.streamId, code);
    }
  }

  /** Ends a session cleanly (close info) or abruptly (error); its streams are reset with WT_SESSION_GONE (§5). */
  endSession(sessionId: number, outcome: WebTransportCloseInfo | WebTransportError): void {
    this.refuseWaiting(sessionId, H3_ERROR.WT_SESSION_GONE);
    const removed = this.#sessions.remove(sessionId);
    if (removed === undefined) return;
    const { session, streams } = removed;
    for (const streamId of session.streamIds()) {
      this.#writer.reject(streamId, new WebTransportError('session closed', { source: 'session' }));
      this.#shutDown(streamId, H3_ERROR.WT_SESSION_GONE);
    }
    for (const streamId of streams) this.#reader.forgetStarved(streamId);
    session.handleClosed(outcome);
  }

  /** The connection is gone: every session ends with `error`, and nobody waits for stream credit any more. */
  endAll(error: WebTransportError): void {
    for (const session of this.#sessions.sessions()) this.endSession(session.sessionId, error);
  }

  /** The connection closed: stream opens waiting for credit fail with `message`. */
  failOpenWaiters(message: string): void {
    for (const waiter of this.#openWaiters.splice(0))
      waiter.reject(new WebTransportError(message, { source: 'session' }));
  }

  /** After input: the peer may have granted stream credit, so waiting opens look again. */
  wakeOpenWaiters(): void {
    if (this.#openWaiters.length === 0) return;
    for (const waiter of this.#openWaiters.splice(0)) waiter.resolve();
  }

  /** Our FIN went out: the stream is let go once its receive side is done too. */
  finWritten(streamId: number): void {
    const session = this.#sessions.sessionOf(streamId);
    if (session !== undefined && (session.receiveSide(streamId)?.done ?? true)) this.#letGo(session, streamId);
  }

  /** The stream's receive side ended (FIN or reset): let go once its send side is done too. */
  receiveDone(session: WebTransportSession, streamId: number): void {
    if (session.sendSide(streamId)?.done ?? true) this.#letGo(session, streamId);
  }

  // ---- Internals ----

  #attach(session: WebTransportSession, stream: WaitingStream): void {
    const outcome = session.handleIncomingStream(stream.streamId, stream.bidirectional, stream.data);
    if (outcome.type === 'gone') {
      this.#shutDown(stream.streamId, H3_ERROR.WT_SESSION_GONE);
      return;
    }
    if (outcome.type === 'refuse') {
      // Refused at once (draft-ietf-webtrans-http3 §4.3): STOP_SENDING, and RESET_STREAM when bidirectional.
      this.#shutDown(stream.streamId, webTransportCodeToHttp3(outcome.code));
      return;
    }
    const receive = outcome.receive;
    this.#sessions.bindStream(stream.streamId, session);
    if (stream.fin) {
      receive.finish();
      this.receiveDone(session, stream.streamId);
    } else {
      this.#reader.readWebTransport(stream.streamId);
    }
  }

  /** Streams that waited for a session, taken out of the wait and of the connection's budget. */
  #takeWaiting(sessionId: number): WaitingStream[] {
    const streams = this.#sessions.takeWaiting(sessionId);
    for (const stream of streams) this.receiveBudget.release(queuedCost(stream.data.byteLength));
    return streams;
  }

  /**
   * Ends a stream both ways with an HTTP/3 `code` (STOP_SENDING, and RESET_STREAM
   * when we can send on it) and keeps no state for it: quiche drops whatever else
   * arrives on it and never reports it readable again.
   */
  #shutDown(streamId: number, code: number): void {
    shutdownStream(this.#quic, streamId, code);
    this.#reader.unwatch(streamId);
    this.#reader.forgetStarved(streamId);
    this.#h3.forget(streamId);
    this.#pump.queueFlush();
  }

  /** RESET_STREAM (Write) or STOP_SENDING (Read) with an application code (§4.4), then lets go if both halves are done. */
  #shutdownOneWay(streamId: number, direction: Shutdown, code: number): void {
    try {
      this.#quic.streamShutdown(streamId, direction, webTransportCodeToHttp3(code));
    } catch {
      // stream already gone
    }
    const session = this.#sessions.sessionOf(streamId);
    if (
      session !== undefined &&
      (session.sendSide(streamId)?.done ?? true) &&
      (session.receiveSide(streamId)?.done ?? true)
    ) {
      this.#letGo(session, streamId);
    }
    this.#pump.queueFlush();
  }

  /** Finished both ways: nothing more is read or written, and its state goes everywhere. */
  #letGo(session: WebTransportSession, streamId: number): void {
    this.#reader.unwatch(streamId);
    this.#reader.forgetStarved(streamId);
    session.forgetStream(streamId);
    this.#sessions.unbindStream(streamId);
    this.#h3.forget(streamId);
  }
}
