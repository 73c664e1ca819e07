/**
 * One WebTransport session with the W3C API shape (ready, closed, incoming
 * streams, datagrams, create*Stream, close). The same class serves the Node
 * client and the server side, over a `SessionPort` that the QUIC edge
 * implements; nothing here touches a socket, so it runs in any JS runtime.
 *
 * What the peer sends is taken only as far as the application accepts it
 * (IncomingPolicy) and the session's receive budget allows: other streams are
 * refused, other datagrams dropped, and `receiveStats` counts both.
 */
import {
  ACCEPT_EVERYTHING,
  acceptsDatagram,
  decideIncomingStream,
  type IncomingPolicy,
  type IncomingStreamDecision,
} from './incoming-policy.ts';
import type { WebTransportLimits } from './limits.ts';
import { queuedCost, ReceiveBudget, type ReceiveStats } from './receive-budget.ts';
import { ReceiveQueue } from './receive-queue.ts';
import { ReceiveSide, SendSide, type StreamPort } from './stream-sides.ts';
import {
  type WebTransportBidirectionalStream,
  type WebTransportCloseInfo,
  type WebTransportDatagramDuplexStream,
  WebTransportError,
  type WebTransportLike,
} from './types.ts';

/** What a session needs from the connection below it. */
export interface SessionPort extends StreamPort {
  /** Opens a stream of this session (waiting for QUIC stream credit) and writes its header. */
  openStream(sessionId: number, bidirectional: boolean): Promise<number>;
  /** Queues a datagram; silently dropped when QUIC's queue is full (datagrams are unreliable). */
  sendDatagram(sessionId: number, payload: Uint8Array): void;
  maxDatagramSize(sessionId: number): number;
  /** Sends CLOSE_WEBTRANSPORT_SESSION and FIN on the CONNECT stream. */
  closeSession(sessionId: number, info: WebTransportCloseInfo): void;
  /** The connection's receive budget: the session's budget sits inside it. */
  readonly receiveBudget: ReceiveBudget;
}

/** What becomes of a stream the peer opened: its receive side, or the refusal the edge sends. */
export type IncomingStreamOutcome =
  | { readonly type: 'accept'; readonly receive: ReceiveSide }
  | Extract<IncomingStreamDecision, { type: 'refuse' }>
  /** The session is not established (or is gone). */
  | { readonly type: 'gone' };

const GONE: IncomingStreamOutcome = Object.freeze({ type: 'gone' });
/** Datagrams are not read from QUIC on demand, and a cancelled datagram readable has nothing to stop. */
const DATAGRAM_HOOKS = { pulled(): void {}, cancelled(): void {} };

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // The application may never await these; an unobserved rejection must not crash the process.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

const encoder = new TextEncoder();

export class WebTransportSession implements WebTransportLike {
  /** The CONNECT stream id (draft-ietf-webtrans-http3 §2). */
  readonly sessionId: number;
  readonly ready: Promise<void>;
  readonly closed: Promise<WebTransportCloseInfo>;
  readonly incomingBidirectionalStreams: ReadableStream<WebTransportBidirectionalStream>;
  readonly incomingUnidirectionalStreams: ReadableStream<ReadableStream<Uint8Array>>;
  readonly datagrams: WebTransportDatagramDuplexStream;
  #protocol = '';
  #port: SessionPort | undefined;
  readonly #limits: WebTransportLimits;
  readonly #ready = deferred<void>();
  readonly #closed = deferred<WebTransportCloseInfo>();
  #state: 'connecting' | 'connected' | 'closed' = 'connecting';
  #incomingBidi!: ReadableStreamDefaultController<WebTransportBidirectionalStream>;
  #incomingUni!: ReadableStreamDefaultController<ReadableStream<Uint8Array>>;
  readonly #datagramQueue: ReceiveQueue;
  readonly #receives = new Map<number, ReceiveSide>();
  readonly #sends = new Map<number, SendSide>();
  #incoming: IncomingPolicy;
  readonly #budget: ReceiveBudget;
  /** Peer-opened streams delivered so far, per direction. */
  #acceptedBidi = 0;
  #acceptedUni = 0;

  /** `incoming`: what the application reads of what the peer sends (default: everything, as the W3C API). */
  constructor(sessionId: number, limits: WebTransportLimits, incoming: IncomingPolicy = ACCEPT_EVERYTHING) {
    this.sessionId = sessionId;
    this.#limits = limits;
    this.#incoming = incoming;
    this.#budget = new ReceiveBudget(limits.sessionReceiveBudgetBytes);
    this.ready = this.#ready.promise;
    this.closed = this.#closed.promise;
    // Counted queues: the streams the application has not taken yet (beyond the limit, refused).
    const queued = { highWaterMark: limits.incomingStreamQueueLength };
    this.incomingBidirectionalStreams = new ReadableStream(
      {
        start: (controller) => {
          this.#incomingBidi = controller;
        },
      },
      queued,
    );
    this.incomingUnidirectionalStreams = new ReadableStream(
      {
        start: (controller) => {
          this.#incomingUni = controller;
        },
      },
      queued,
    );
    this.#datagramQueue = new ReceiveQueue(this.#budget, DATAGRAM_HOOKS);
    const readable = this.#datagramQueue.readable;
    const writable = new WritableStream<Uint8Array>({
      // Synchronous once connected: a datagram write costs no promise hop of its own.
      write: (chunk) => {
        if (this.#state === 'connected') return this.#sendDatagram(chunk);
        return this.ready.then(() => this.#sendDatagram(chunk));
      },
    });
    const session = this;
    this.datagrams = {
      readable,
      writable,
      get maxDatagramSize(): number {
        return session.#port?.maxDatagramSize(session.sessionId) ?? 1200;
      },
    };
  }

  get protocol(): string {
    return this.#protocol;
  }

  get state(): 'connecting' | 'connected' | 'closed' {
    return this.#state;
  }

  /** What the session refused, dropped and holds for the application (not W3C: for metrics). */
  get receiveStats(): ReceiveStats {
    return this.#budget.stats();
  }

  /** What the application reads of what the peer sends. */
  get incomingPolicy(): IncomingPolicy {
    return this.#incoming;
  }

  async createBidirectionalStream(): Promise<WebTransportBidirectionalStream> {
    const port = await this.#portWhenReady();
    const streamId = await port.openStream(this.sessionId, true);
    return this.#attachBidi(port, streamId);
  }

  async createUnidirectionalStream(): Promise<WritableStream<Uint8Array>> {
    const port = await this.#portWhenReady();
    const streamId = await port.openStream(this.sessionId, false);
    const send = new SendSide(port, streamId);
    this.#sends.set(streamId, send);
    return send.writable;
  }

  close(closeInfo: { closeCode?: number; reason?: string } = {}): void {
    if (this.#state === 'closed') return;
    const closeCode = (closeInfo.closeCode ?? 0) >>> 0;
    // The reason is cut to the limit on a UTF-8 character boundary (W3C close() steps).
    let reason = closeInfo.reason ?? '';
    while (encoder.encode(reason).length > this.#limits.maxCloseReasonBytes) reason = reason.slice(0, -1);
    const info = { closeCode, reason };
    if (this.#state === 'connected') this.#port?.closeSession(this.sessionId, info);
    this.handleClosed(info);
  }

  // ---- Called by the connection below (not application API). ----

  /** Connects the session to its transport (the client creates the session before the connection). */
  attach(port: SessionPort): void {
    this.#port = port;
    this.#budget.join(port.receiveBudget);
  }

  /** Sets what the application reads (the server, from `onSession`'s answer); before the session is established. */
  setIncomingPolicy(policy: IncomingPolicy): void {
    if (this.#state !== 'connecting') throw new Error('the incoming policy is set before the session is established');
    this.#incoming = policy;
  }

  handleReady(protocol: string): void {
    if (this.#state !== 'connecting') return;
    this.#state = 'connected';
    this.#protocol = protocol;
    this.#ready.resolve();
  }

  /**
   * A stream the peer opened, with the bytes read after its header: taken (its
   * receive side holds them; the caller reads on) or refused (the caller sends
   * STOP_SENDING / RESET_STREAM with the outcome's code).
   */
  handleIncomingStream(streamId: number, bidirectional: boolean, firstBytes: Uint8Array): IncomingStreamOutcome {
    const port = this.#port;
    if (this.#state !== 'connected' || port === undefined) return GONE;
    const queue = bidirectional ? this.#incomingBidi : this.#incomingUni;
    const queueLength = this.#limits.incomingStreamQueueLength;
    const decision = decideIncomingStream({
      policy: this.#incoming,
      bidirectional,
      accepted: bidirectional ? this.#acceptedBidi : this.#acceptedUni,
      queued: queueLength - (queue.desiredSize ?? 0),
      queueLength,
      firstBytes: firstBytes.byteLength,
      room: this.#budget.room,
    });
    if (decision.type === 'refuse') {
      this.#budget.streamRefused(firstBytes.byteLength, decision.reason === 'over-budget');
      return decision;
    }
    if (bidirectional) this.#acceptedBidi++;
    else this.#acceptedUni++;
    const receive = new ReceiveSide(port, streamId, this.#limits.streamReadBufferBytes, this.#budget);
    receive.push(firstBytes);
    this.#receives.set(streamId, receive);
    if (bidirectional) {
      const send = new SendSide(port, streamId);
      this.#sends.set(streamId, send);
      this.#incomingBidi.enqueue({ readable: receive.readable, writable: send.writable });
    } else {
      this.#incomingUni.enqueue(receive.readable);
    }
    return { type: 'accept', receive };
  }

  receiveSide(streamId: number): ReceiveSide | undefined {
    return this.#receives.get(streamId);
  }

  sendSide(streamId: number): SendSide | undefined {
    return this.#sends.get(streamId);
  }

  /** The stream is finished both ways: forget it. */
  forgetStream(streamId: number): void {
    this.#receives.delete(streamId);
    this.#sends.delete(streamId);
  }

  /** Stream ids this session still tracks. */
  streamIds(): number[] {
    return [...new Set([...this.#receives.keys(), ...this.#sends.keys()])];
  }

  handleDatagram(payload: Uint8Array): void {
    if (this.#state !== 'connected') return;
    const queue = this.#datagramQueue;
    // A read that waits takes it at once; else it is queued while the queue and the budget have room.
    // Otherwise the newest datagram is dropped (datagrams are unreliable, RFC 9221 §5).
    const taken =
      acceptsDatagram(this.#incoming, payload.byteLength) &&
      !queue.ended &&
      (queue.waiting ||
        (queue.queuedCount < this.#limits.datagramQueueLength && this.#budget.fits(queuedCost(payload.byteLength))));
    if (taken) queue.push(payload);
    else this.#budget.datagramDropped(payload.byteLength);
  }

  /** The session ended: cleanly with close info, or abruptly with an error. */
  handleClosed(outcome: WebTransportCloseInfo | WebTransportError): void {
    if (this.#state === 'closed') return;
    const wasConnecting = this.#state === 'connecting';
    this.#state = 'closed';
    const error =
      outcome instanceof WebTransportError
        ? outcome
        : new WebTransportError('session closed', { source: 'session', streamErrorCode: null });
    for (const receive of this.#receives.values()) receive.abort(error);
    for (const send of this.#sends.values()) send.abort(error);
    this.#receives.clear();
    this.#sends.clear();
    for (const controller of [this.#incomingBidi, this.#incomingUni]) {
      try {
        if (outcome instanceof WebTransportError) controller.error(error);
        else controller.close();
      } catch {
        // already closed or errored by a reader cancel
      }
    }
    if (outcome instanceof WebTransportError) this.#datagramQueue.fail(error);
    else this.#datagramQueue.close();
    // What finished streams still hold stays readable, but no longer counts against the connection.
    this.#budget.detach();
    if (wasConnecting) this.#ready.reject(error);
    if (outcome instanceof WebTransportError) this.#closed.reject(outcome);
    else this.#closed.resolve(outcome);
  }

  #sendDatagram(chunk: Uint8Array): undefined {
    if (this.#state !== 'connected' || this.#port === undefined) return;
    // Too large for one QUIC datagram: dropped, as the W3C API does.
    if (chunk.byteLength > this.#port.maxDatagramSize(this.sessionId)) return;
    this.#port.sendDatagram(this.sessionId, chunk);
  }

  async #portWhenReady(): Promise<SessionPort> {
    await this.ready;
    if (this.#state !== 'connected' || this.#port === undefined) {
      throw new WebTransportError('session is closed', { source: 'session' });
    }
    return this.#port;
  }

  #attachBidi(port: SessionPort, streamId: number): WebTransportBidirectionalStream {
    const receive = new ReceiveSide(port, streamId, this.#limits.streamReadBufferBytes, this.#budget);
    const send = new SendSide(port, streamId);
    this.#receives.set(streamId, receive);
    this.#sends.set(streamId, send);
    return { readable: receive.readable, writable: send.writable };
  }
}
