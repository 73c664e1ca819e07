import { type Frame, FrameCodec, type FrameOf } from '@pulse/proto';
import { PulseError, type PulseErrorCode } from '../errors.ts';
import type { ClientLimits } from '../limits.ts';
import type { ServerInfo } from '../server-info.ts';
import {
  inMemoryTransportMemory,
  openFirst,
  serverInfo,
  type TransportMemory,
  transportOrder,
} from '../transport/negotiate.ts';
import type { FrameTransport, TransportFactories, TransportKind, TransportPreference } from '../transport/types.ts';
import { Greeting, type ReadyHook } from './handshake.ts';
import { Heartbeat } from './heartbeat.ts';
import { Listeners } from './listeners.ts';
import { ReadyWaiters } from './ready-waiters.ts';
import { Reconnector } from './reconnector.ts';
import { type Answer, type RequestFrame, RequestTable, type RequestType } from './requests.ts';

export type { Answer, AnswerOf, RequestFrame, RequestType } from '@pulse/proto';
export type { HandshakeSession, ReadyHook } from './handshake.ts';

/** Frames the server sends unasked. */
export type PushFrame = FrameOf<
  | 'deliver'
  | 'channel_message'
  | 'presence_snapshot'
  | 'presence_join'
  | 'presence_leave'
  | 'prekeys_low'
  | 'device_list_changed'
  | 'link_requested'
  | 'link_approved'
  | 'ephemeral'
  | 'error'
>;

/** The pause after `error RATE_LIMITED` without id when the server gives no `retryAfterMs`. */
const RATE_LIMITED_DEFAULT_MS = 1_000;

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface ConnectionStatus {
  readonly state: ConnectionState;
  /** The transport in use while connected. */
  readonly transport: TransportKind | undefined;
  /** Why the last attempt or connection ended, for display. */
  readonly lastError: string | undefined;
}

export interface ConnectionOptions {
  /** The server's base URL, e.g. `http://127.0.0.1:8080`. */
  readonly server: string;
  readonly transport: TransportPreference;
  readonly factories: TransportFactories;
  readonly limits: ClientLimits;
  readonly clientName: string;
  readonly memory?: TransportMemory;
  readonly onReady?: ReadyHook;
  readonly random?: () => number;
  readonly now?: () => number;
}

/**
 * One logical connection to a Pulse server that survives transport failures.
 * It coordinates its parts: transport negotiation (transport/negotiate.ts), the
 * greeting and the ready hook (handshake.ts: authentication, resumption), the
 * request table (requests.ts), the heartbeat, and the reconnector (backoff and
 * jitter when the transport drops).
 */
export class PulseConnection {
  readonly #options: ConnectionOptions;
  readonly #codec = new FrameCodec();
  readonly #memory: TransportMemory;
  readonly #now: () => number;
  readonly #requests: RequestTable;
  readonly #greeting = new Greeting();
  readonly #heartbeat: Heartbeat;
  /** The `welcome` of the transport in use: its challenge is what proofs on this connection sign. */
  #welcome: FrameOf<'welcome'> | undefined;
  readonly #reconnector: Reconnector;
  readonly #pushListeners = new Listeners<PushFrame>();
  readonly #statusListeners = new Listeners<ConnectionStatus>();
  readonly #readyWaiters = new ReadyWaiters();
  #status: ConnectionStatus = { state: 'idle', transport: undefined, lastError: undefined };
  #transport: FrameTransport | undefined;
  #info: ServerInfo | undefined;
  /** Rejects the ready hook's `closed` when the transport of the attempt in progress closes. */
  #attemptClosed: ((error: Error) => void) | undefined;
  /** Barrier pings (requests.ts `Barrier`) waiting for their pong, by nonce. */
  readonly #barriers = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  readonly #random: () => number;

  constructor(options: ConnectionOptions) {
    this.#options = options;
    this.#memory = options.memory ?? inMemoryTransportMemory();
    this.#now = options.now ?? Date.now;
    const random = options.random ?? Math.random;
    this.#random = random;
    this.#requests = new RequestTable(options.limits, () => this.#barrier());
    this.#heartbeat = new Heartbeat({
      now: this.#now,
      random,
      ping: (nonce) => this.#transport?.send(this.#codec.encode({ type: 'ping', nonce })),
      silent: () => this.#onTransportClosed('heartbeat timeout'),
    });
    this.#reconnector = new Reconnector({
      baseMs: options.limits.reconnectBaseMs,
      maxMs: options.limits.reconnectMaxMs,
      random,
      attempt: () => this.#attemptConnect(),
      wanted: () => this.#status.state === 'connecting' || this.#status.state === 'reconnecting',
    });
  }

  /** The challenge of the connection in use (undefined while none is): `prekeys_upload.proof` signs it. */
  get challenge(): Uint8Array | undefined {
    return this.#welcome?.challenge;
  }

  get status(): ConnectionStatus {
    return this.#status;
  }

  /** Calls `listener` on every status change; returns the unsubscribe function. */
  onStatus(listener: (status: ConnectionStatus) => void): () => void {
    return this.#statusListeners.add(listener);
  }

  /** Calls `listener` for every frame the server pushes unasked. */
  onPush(listener: (frame: PushFrame) => void): () => void {
    return this.#pushListeners.add(listener);
  }

  /**
   * Connects once (every transport in order); rejects when none works, so a
   * command-line caller can report "server unreachable". After the first
   * success, drops are repaired automatically.
   */
  async connect(): Promise<void> {
    if (this.#status.state === 'closed') throw new PulseError('CLIENT_CLOSED', 'the connection was closed');
    if (this.#status.state === 'connected') return;
    return this.#reconnector.start();
  }

  /** Sends a request and resolves with its answer; an `error` answer rejects with its code. */
  async request<T extends RequestType>(frame: RequestFrame<T>): Promise<Answer<T>> {
    await this.#whenConnected();
    return this.#request(frame);
  }

  /** Sends a frame that has no answer (`deliver_ack`). Dropped while disconnected: the server redelivers. */
  send(frame: FrameOf<'deliver_ack'>): void {
    // Held, in order, while the server asks for a pause (RATE_LIMITED): sent now, it would only be refused.
    this.#requests.hold(() => {
      if (this.#status.state === 'connected') this.#transport?.send(this.#codec.encode(frame));
    });
  }

  /**
   * Sends an ephemeral frame (PROTOCOL.md "Ephemeral events"): in a datagram
   * when the transport has them, never answered, dropped while disconnected
   * (a typing indicator that missed its moment is worth nothing later).
   */
  sendEphemeral(frame: FrameOf<'send_ephemeral'>): void {
    const transport = this.#transport;
    if (this.#status.state !== 'connected' || transport === undefined || this.#requests.paused) return;
    const bytes = this.#codec.encode(frame);
    if (transport.sendUnreliable !== undefined) transport.sendUnreliable(bytes);
    else transport.send(bytes);
  }

  /**
   * Drops the transport and stops reconnecting, but stays usable: the next
   * `connect()` starts afresh (after a refused registration, say).
   */
  reset(reason: string): void {
    if (this.#status.state === 'closed') return;
    this.#reconnector.stop();
    this.#heartbeat.stop();
    this.#dropTransport();
    this.#requests.failAll(new PulseError('CONNECTION_CLOSED', reason));
    this.#setStatus({ state: 'idle', transport: undefined, lastError: reason });
  }

  close(): void {
    if (this.#status.state === 'closed') return;
    this.#reconnector.stop();
    this.#heartbeat.stop();
    const transport = this.#transport;
    this.#transport = undefined;
    this.#rejectBarriers();
    this.#setStatus({ state: 'closed', transport: undefined, lastError: undefined });
    if (transport !== undefined) {
      try {
        transport.send(this.#codec.encode({ type: 'close', code: 'SERVER_SHUTDOWN', reason: 'client closing' }));
      } catch {
        // Best effort.
      }
      transport.close();
    }
    const closed = () => new PulseError('CLIENT_CLOSED', 'the connection was closed');
    this.#attemptClosed?.(closed());
    this.#requests.failAll(closed());
    this.#readyWaiters.rejectAll(closed);
  }

  async #attemptConnect(): Promise<void> {
    this.#setStatus({
      ...this.#status,
      state: this.#reconnector.attempt === 0 ? 'connecting' : 'reconnecting',
      transport: undefined,
    });
    const { server, limits, factories, transport: preference } = this.#options;
    let greeted = false;
    try {
      // Fetched once for the client's life (issue 15): a reconnect reuses it. An attempt that
      // opens no transport forgets it, as the server may have changed (certificate, ports, versions).
      this.#info ??= await serverInfo(server, factories, limits);
      const order = transportOrder(preference, this.#info, factories, this.#memory.get(server), this.#now(), limits);
      if (order.length === 0) {
        throw new PulseError('TRANSPORT_UNAVAILABLE', 'no transport offered by the server is available here');
      }
      // A transport counts as working once the server said welcome over it; until then, try the next one.
      let established: { transport: FrameTransport; welcome: FrameOf<'welcome'> } | undefined;
      let lastError: unknown;
      for (const [index, kind] of order.entries()) {
        try {
          established = await this.#openAndGreet(kind, index < order.length - 1);
          break;
        } catch (error) {
          lastError = error;
          this.#dropTransport();
          if (this.#status.state === 'closed') throw error;
        }
      }
      if (established === undefined) throw lastError;
      greeted = true;
      const { transport, welcome } = established;
      if (preference === 'auto') this.#memory.set(server, { kind: transport.kind, at: this.#now() });
      const closed = new Promise<never>((_, reject) => {
        this.#attemptClosed = reject;
      });
      closed.catch(() => {}); // only a ready hook that waits long (linking) listens
      // The heartbeat runs during the ready hook too: linking waits there for another device's approval.
      this.#welcome = welcome;
      this.#heartbeat.start(welcome.heartbeatMs);
      await this.#options.onReady?.({
        welcome,
        transport: transport.kind,
        request: (frame) => this.#request(frame),
        closed,
      });
      this.#attemptClosed = undefined;
      this.#reconnector.succeeded();
      this.#setStatus({ state: 'connected', transport: transport.kind, lastError: undefined });
      this.#readyWaiters.resolveAll();
    } catch (error) {
      if (!greeted) this.#info = undefined;
      this.#attemptClosed = undefined;
      this.#heartbeat.stop();
      this.#dropTransport();
      this.#requests.failAll(error instanceof Error ? error : new Error(String(error)));
      if (this.#status.state !== 'closed') {
        this.#setStatus({ state: 'reconnecting', transport: undefined, lastError: describe(error) });
      }
      throw error;
    }
  }

  /** Opens one transport, adopts it and waits for `welcome`; with `hurry`, a slow welcome counts as failure. */
  async #openAndGreet(
    kind: TransportKind,
    hurry: boolean,
  ): Promise<{ transport: FrameTransport; welcome: FrameOf<'welcome'> }> {
    const { limits, factories } = this.#options;
    // Frames or a close may arrive before openFirst returns; they belong to this attempt only once it is adopted.
    let opened: FrameTransport | undefined;
    let closedEarly: string | undefined;
    const transport = await openFirst([kind], this.#info!, factories, limits, {
      onFrame: (bytes) => {
        if (opened !== undefined && this.#transport === opened) this.#onFrame(bytes);
      },
      onClose: (reason) => {
        if (opened !== undefined && this.#transport === opened) this.#onTransportClosed(reason);
        else closedEarly ??= reason;
      },
      onDatagram: (bytes) => {
        if (opened !== undefined && this.#transport === opened) this.#onDatagram(bytes);
      },
    });
    opened = transport;
    if (this.#status.state === 'closed') {
      transport.close();
      throw new PulseError('CLIENT_CLOSED', 'the connection was closed');
    }
    if (closedEarly !== undefined) {
      transport.close();
      throw new PulseError('CONNECTION_CLOSED', closedEarly);
    }
    this.#transport = transport;
    this.#heartbeat.received();
    const welcome = await this.#greeting.start(
      (hello) => transport.send(this.#codec.encode(hello)),
      this.#options.clientName,
      hurry ? limits.webTransportTimeoutMs : limits.requestTimeoutMs,
    );
    return { transport, welcome };
  }

  #request<T extends RequestType>(frame: RequestFrame<T>): Promise<Answer<T>> {
    const transport = this.#transport;
    if (transport === undefined) return Promise.reject(new PulseError('CONNECTION_CLOSED', 'not connected'));
    return this.#requests.issue(frame, (withId) => transport.send(this.#codec.encode(withId)));
  }

  #whenConnected(): Promise<void> {
    const state = this.#status.state;
    if (state === 'connected') return Promise.resolve();
    if (state === 'closed') return Promise.reject(new PulseError('CLIENT_CLOSED', 'the connection was closed'));
    if (state === 'idle') return this.connect();
    const running = this.#reconnector.running;
    if (running !== undefined && this.#reconnector.attempt === 0) return running;
    const { requestTimeoutMs } = this.#options.limits;
    return this.#readyWaiters.wait(
      requestTimeoutMs,
      () => new PulseError('TIMEOUT', `not connected within ${requestTimeoutMs} ms`),
    );
  }

  #onFrame(bytes: Uint8Array): void {
    this.#heartbeat.received();
    let frame: Frame;
    try {
      frame = this.#codec.decode(bytes);
    } catch (error) {
      // A server that sends undecodable frames cannot be trusted with this connection.
      this.#transport?.close();
      this.#onTransportClosed(`undecodable frame from server: ${describe(error)}`);
      return;
    }
    switch (frame.type) {
      case 'welcome':
        this.#greeting.welcome(frame);
        return;
      case 'ping':
        this.#transport?.send(this.#codec.encode({ type: 'pong', nonce: frame.nonce }));
        return;
      case 'pong':
        this.#barriers.get(frame.nonce)?.resolve();
        return;
      case 'close':
        this.#greeting.fail(new PulseError(frame.code as PulseErrorCode, frame.reason));
        this.#onTransportClosed(`server closed: ${frame.code} ${frame.reason}`);
        return;
      case 'error':
        // An answer to a request, else frames refused unread (no id: pause and resend), else the
        // server's refusal of hello, else a notice.
        if (this.#requests.settle(frame)) return;
        if (frame.code === 'RATE_LIMITED' && frame.id === undefined && this.#status.state !== 'closed') {
          this.#requests.rateLimited(frame.retryAfterMs ?? RATE_LIMITED_DEFAULT_MS);
          return;
        }
        if (this.#greeting.fail(new PulseError(frame.code as PulseErrorCode, frame.message))) return;
        this.#pushListeners.emit(frame);
        return;
      case 'deliver':
      case 'channel_message':
      case 'presence_snapshot':
      case 'presence_join':
      case 'presence_leave':
      case 'prekeys_low':
      case 'device_list_changed':
      case 'link_requested':
      case 'link_approved':
      case 'ephemeral':
        this.#pushListeners.emit(frame);
        return;
      default:
        this.#requests.settle(frame); // false for a late answer to a timed-out request: dropped
    }
  }

  /** A datagram: one `ephemeral` frame, or dropped (datagrams carry nothing else; a bad one costs nothing more). */
  #onDatagram(bytes: Uint8Array): void {
    let frame: Frame;
    try {
      frame = this.#codec.decode(bytes);
    } catch {
      return;
    }
    if (frame.type === 'ephemeral') this.#pushListeners.emit(frame);
  }

  /** Sends a `ping` and resolves on its `pong`: the server has read everything sent before it. */
  #barrier(): Promise<void> {
    const transport = this.#transport;
    if (transport === undefined) return Promise.reject(new PulseError('CONNECTION_CLOSED', 'not connected'));
    let nonce = Math.floor(this.#random() * 0xffff_ffff);
    while (this.#barriers.has(nonce)) nonce = (nonce + 1) % 0xffff_ffff;
    return new Promise<void>((resolve, reject) => {
      const settle = () => this.#barriers.delete(nonce);
      this.#barriers.set(nonce, {
        resolve: () => {
          settle();
          resolve();
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      });
      transport.send(this.#codec.encode({ type: 'ping', nonce }));
    });
  }

  #onTransportClosed(reason: string): void {
    this.#heartbeat.stop();
    this.#dropTransport();
    this.#greeting.fail(new PulseError('CONNECTION_CLOSED', reason));
    this.#attemptClosed?.(new PulseError('CONNECTION_CLOSED', reason));
    this.#requests.failAll(new PulseError('CONNECTION_CLOSED', reason));
    if (this.#status.state !== 'connected') return; // an attempt in progress reports its own failure
    this.#setStatus({ state: 'reconnecting', transport: undefined, lastError: reason });
    this.#reconnector.schedule();
  }

  /** A barrier's pong cannot come over another transport. */
  #rejectBarriers(): void {
    for (const barrier of [...this.#barriers.values()]) {
      barrier.reject(new PulseError('CONNECTION_CLOSED', 'the transport closed'));
    }
  }

  /** Forgets the current transport and closes it. */
  #dropTransport(): void {
    this.#rejectBarriers();
    this.#welcome = undefined;
    const transport = this.#transport;
    this.#transport = undefined;
    transport?.close();
  }

  #setStatus(status: ConnectionStatus): void {
    this.#status = status;
    this.#statusListeners.emit(status);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
