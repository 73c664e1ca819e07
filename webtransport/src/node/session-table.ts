/**
 * The WebTransport sessions of one connection: each session by its id (the
 * CONNECT stream's), each WebTransport stream's session, the close info a
 * CLOSE_WEBTRANSPORT_SESSION capsule announced, and the streams that arrived
 * before their session (draft-ietf-webtrans-http3 §4.6). Plain bookkeeping: the
 * connection does the I/O that goes with it.
 */
import type { WebTransportSession } from '../webtransport/session.ts';
import type { WebTransportCloseInfo } from '../webtransport/types.ts';
import { type WaitingStream, WaitingStreams } from './waiting-streams.ts';

export class SessionTable {
  readonly #sessions = new Map<number, WebTransportSession>();
  /** WebTransport stream id → its session. */
  readonly #byStream = new Map<number, WebTransportSession>();
  readonly #closeInfo = new Map<number, WebTransportCloseInfo>();
  readonly #waiting: WaitingStreams;

  /** `maxWaitingStreams`: streams held for sessions not established yet, across the connection. */
  constructor(maxWaitingStreams: number) {
    this.#waiting = new WaitingStreams(maxWaitingStreams);
  }

  get size(): number {
    return this.#sessions.size;
  }

  add(session: WebTransportSession): void {
    this.#sessions.set(session.sessionId, session);
  }

  get(sessionId: number): WebTransportSession | undefined {
    return this.#sessions.get(sessionId);
  }

  has(sessionId: number): boolean {
    return this.#sessions.has(sessionId);
  }

  /** The sessions now (a copy: closing one changes the table). */
  sessions(): WebTransportSession[] {
    return [...this.#sessions.values()];
  }

  /**
   * Removes a session, its close info and its streams' bindings; returns the
   * session and the streams that were bound to it, or undefined if it was not here.
   */
  remove(sessionId: number): { session: WebTransportSession; streams: number[] } | undefined {
    const session = this.#sessions.get(sessionId);
    if (session === undefined) return undefined;
    this.#sessions.delete(sessionId);
    this.#closeInfo.delete(sessionId);
    const streams: number[] = [];
    for (const [streamId, owner] of this.#byStream) {
      if (owner !== session) continue;
      this.#byStream.delete(streamId);
      streams.push(streamId);
    }
    return { session, streams };
  }

  bindStream(streamId: number, session: WebTransportSession): void {
    this.#byStream.set(streamId, session);
  }

  /** The session a WebTransport stream belongs to, while both are alive. */
  sessionOf(streamId: number): WebTransportSession | undefined {
    return this.#byStream.get(streamId);
  }

  unbindStream(streamId: number): void {
    this.#byStream.delete(streamId);
  }

  /** What the peer's CLOSE_WEBTRANSPORT_SESSION said, kept until its CONNECT stream ends. */
  recordClose(sessionId: number, info: WebTransportCloseInfo): void {
    this.#closeInfo.set(sessionId, info);
  }

  /** The close the peer announced, or code 0 and no reason when it sent no capsule (draft-ietf-webtrans-http3 §5). */
  closeInfoOf(sessionId: number): WebTransportCloseInfo {
    // A fresh object: the application receives it from `closed`.
    return this.#closeInfo.get(sessionId) ?? { closeCode: 0, reason: '' };
  }

  /** Keeps a stream that arrived before its session; false when the limit is reached. */
  hold(sessionId: number, stream: WaitingStream): boolean {
    return this.#waiting.hold(sessionId, stream);
  }

  /** Removes and returns the streams that waited for a session. */
  takeWaiting(sessionId: number): WaitingStream[] {
    return this.#waiting.take(sessionId);
  }
}
