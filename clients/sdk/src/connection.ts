import { type Frame, FrameCodec, type FrameOf, type FrameType, PROTOCOL_VERSIONS } from '@pulse/proto';
import { backoffDelay } from './backoff.ts';
import { PulseError, type PulseErrorCode } from './errors.ts';
import type { ClientLimits } from './limits.ts';
import { fetchServerInfo, type ServerInfo } from './server-info.ts';
import { inMemoryTransportMemory, openFirst, type TransportMemory, transportOrder } from './transport/negotiate.ts';
import type { FrameTransport, TransportFactories, TransportKind, TransportPreference } from './transport/types.ts';

/** Each request frame type and the frame type of its successful answer (PROTOCOL.md "Frames"). */
export interface AnswerOf {
  register: 'auth_ok';
  auth: 'auth_ok';
  auth_token: 'auth_ok';
  device_link: 'device_linked';
  device_list: 'devices';
  device_remove: 'ok';
  prekeys_upload: 'ok';
  bundle_fetch: 'bundles';
  send: 'sent';
  sync: 'sync_done';
  subscribe: 'subscribed';
  unsubscribe: 'ok';
  publish: 'published';
}
export type RequestType = keyof AnswerOf;
export type RequestFrame<T extends RequestType> = Omit<FrameOf<T>, 'id'> & { type: T };
export type Answer<T extends RequestType> = FrameOf<AnswerOf[T]>;

/** Frames the server sends unasked. */
export type PushFrame = FrameOf<
  'deliver' | 'channel_message' | 'presence_snapshot' | 'presence_join' | 'presence_leave' | 'prekeys_low' | 'error'
>;

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface ConnectionStatus {
  readonly state: ConnectionState;
  /** The transport in use while connected. */
  readonly transport: TransportKind | undefined;
  /** Why the last attempt or connection ended, for display. */
  readonly lastError: string | undefined;
}

/** Runs after `welcome` on every (re)connection, before the connection counts as connected. */
export type ReadyHook = (session: HandshakeSession) => Promise<void>;

export interface HandshakeSession {
  readonly welcome: FrameOf<'welcome'>;
  readonly transport: TransportKind;
  request<T extends RequestType>(frame: RequestFrame<T>): Promise<Answer<T>>;
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

interface Pending {
  readonly expect: FrameType;
  resolve(frame: Frame): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * One logical connection to a Pulse server that survives transport failures:
 * it negotiates a transport, says hello, runs the ready hook (authentication,
 * resumption), correlates requests with answers by `id`, answers pings, and
 * reconnects with backoff and jitter when the transport drops.
 */
export class PulseConnection {
  readonly #options: ConnectionOptions;
  readonly #codec = new FrameCodec();
  readonly #memory: TransportMemory;
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #pending = new Map<number, Pending>();
  readonly #pushListeners = new Set<(frame: PushFrame) => void>();
  readonly #statusListeners = new Set<(status: ConnectionStatus) => void>();
  readonly #readyWaiters = new Set<{ resolve(): void; reject(error: Error): void }>();
  #status: ConnectionStatus = { state: 'idle', transport: undefined, lastError: undefined };
  #transport: FrameTransport | undefined;
  #welcome: { resolve(frame: FrameOf<'welcome'>): void; reject(error: Error): void } | undefined;
  #nextId = 1;
  #attempt = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  #lastReceivedAt = 0;
  #info: ServerInfo | undefined;
  #connecting: Promise<void> | undefined;

  constructor(options: ConnectionOptions) {
    this.#options = options;
    this.#memory = options.memory ?? inMemoryTransportMemory();
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
  }

  get status(): ConnectionStatus {
    return this.#status;
  }

  /** Calls `listener` on every status change; returns the unsubscribe function. */
  onStatus(listener: (status: ConnectionStatus) => void): () => void {
    this.#statusListeners.add(listener);
    return () => this.#statusListeners.delete(listener);
  }

  /** Calls `listener` for every frame the server pushes unasked. */
  onPush(listener: (frame: PushFrame) => void): () => void {
    this.#pushListeners.add(listener);
    return () => this.#pushListeners.delete(listener);
  }

  /**
   * Connects once (every transport in order); rejects when none works, so a
   * command-line caller can report "server unreachable". After the first
   * success, drops are repaired automatically.
   */
  async connect(): Promise<void> {
    if (this.#status.state === 'closed') throw new PulseError('CLIENT_CLOSED', 'the connection was closed');
    if (this.#status.state === 'connected') return;
    if (this.#connecting === undefined) {
      this.#connecting = this.#attemptConnect().finally(() => {
        this.#connecting = undefined;
      });
      // Keep trying in the background; this caller still learns that the first round failed.
      this.#connecting.catch(() => this.#scheduleReconnect());
    }
    return this.#connecting;
  }

  /** Sends a request and resolves with its answer; an `error` answer rejects with its code. */
  async request<T extends RequestType>(frame: RequestFrame<T>): Promise<Answer<T>> {
    await this.#whenConnected();
    return this.#request(frame);
  }

  /** Sends a frame that has no answer (`deliver_ack`). Dropped while disconnected: the server redelivers. */
  send(frame: FrameOf<'deliver_ack'>): void {
    if (this.#status.state === 'connected') this.#transport?.send(this.#codec.encode(frame));
  }

  /**
   * Drops the transport and stops reconnecting, but stays usable: the next
   * `connect()` starts afresh (after a refused registration, say).
   */
  reset(reason: string): void {
    if (this.#status.state === 'closed') return;
    clearTimeout(this.#reconnectTimer);
    clearInterval(this.#heartbeatTimer);
    const transport = this.#transport;
    this.#transport = undefined;
    transport?.close();
    this.#attempt = 0;
    this.#failPending(new PulseError('CONNECTION_CLOSED', reason));
    this.#setStatus({ state: 'idle', transport: undefined, lastError: reason });
  }

  close(): void {
    if (this.#status.state === 'closed') return;
    clearTimeout(this.#reconnectTimer);
    clearInterval(this.#heartbeatTimer);
    const transport = this.#transport;
    this.#transport = undefined;
    this.#setStatus({ state: 'closed', transport: undefined, lastError: undefined });
    if (transport !== undefined) {
      try {
        transport.send(this.#codec.encode({ type: 'close', code: 'SERVER_SHUTDOWN', reason: 'client closing' }));
      } catch {
        // Best effort.
      }
      transport.close();
    }
    this.#failPending(new PulseError('CLIENT_CLOSED', 'the connection was closed'));
    for (const waiter of this.#readyWaiters)
      waiter.reject(new PulseError('CLIENT_CLOSED', 'the connection was closed'));
    this.#readyWaiters.clear();
  }

  async #attemptConnect(): Promise<void> {
    this.#setStatus({
      ...this.#status,
      state: this.#attempt === 0 ? 'connecting' : 'reconnecting',
      transport: undefined,
    });
    const { server, limits, factories, transport: preference } = this.#options;
    try {
      this.#info = await fetchServerInfo(server, limits);
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
          const failed = this.#transport;
          this.#transport = undefined;
          failed?.close();
          if (this.#status.state === 'closed') throw error;
        }
      }
      if (established === undefined) throw lastError;
      const { transport, welcome } = established;
      if (preference === 'auto') this.#memory.set(server, { kind: transport.kind, at: this.#now() });
      await this.#options.onReady?.({
        welcome,
        transport: transport.kind,
        request: (frame) => this.#request(frame),
      });
      this.#startHeartbeat(welcome.heartbeatMs);
      this.#attempt = 0;
      this.#setStatus({ state: 'connected', transport: transport.kind, lastError: undefined });
      for (const waiter of this.#readyWaiters) waiter.resolve();
      this.#readyWaiters.clear();
    } catch (error) {
      const transport = this.#transport;
      this.#transport = undefined;
      transport?.close();
      this.#failPending(error instanceof Error ? error : new Error(String(error)));
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
    this.#lastReceivedAt = this.#now();
    const welcome = await this.#hello(transport, hurry ? limits.webTransportTimeoutMs : limits.requestTimeoutMs);
    return { transport, welcome };
  }

  #hello(transport: FrameTransport, timeoutMs: number): Promise<FrameOf<'welcome'>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#welcome = undefined;
        reject(new PulseError('TIMEOUT', 'the server did not answer hello'));
      }, timeoutMs);
      this.#welcome = {
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      transport.send(
        this.#codec.encode({ type: 'hello', versions: [...PROTOCOL_VERSIONS], client: this.#options.clientName }),
      );
    });
  }

  #request<T extends RequestType>(frame: RequestFrame<T>): Promise<Answer<T>> {
    const transport = this.#transport;
    if (transport === undefined) {
      return Promise.reject(new PulseError('CONNECTION_CLOSED', 'not connected'));
    }
    if (this.#pending.size >= this.#options.limits.maxPendingRequests) {
      return Promise.reject(new PulseError('TOO_MANY_REQUESTS', 'too many requests in flight'));
    }
    const id = this.#nextId;
    this.#nextId = this.#nextId >= 0xffff_ffff ? 1 : this.#nextId + 1;
    const expect = ANSWERS[frame.type as RequestType];
    const encoded = this.#codec.encode({ ...frame, id } as Frame);
    return new Promise<Answer<T>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(
          new PulseError('TIMEOUT', `no answer to ${frame.type} within ${this.#options.limits.requestTimeoutMs} ms`),
        );
      }, this.#options.limits.requestTimeoutMs);
      this.#pending.set(id, { expect, resolve: resolve as (frame: Frame) => void, reject, timer });
      transport.send(encoded);
    });
  }

  #whenConnected(): Promise<void> {
    const state = this.#status.state;
    if (state === 'connected') return Promise.resolve();
    if (state === 'closed') return Promise.reject(new PulseError('CLIENT_CLOSED', 'the connection was closed'));
    if (state === 'idle') return this.connect();
    if (this.#connecting !== undefined && this.#attempt === 0) return this.#connecting;
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error: Error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        this.#readyWaiters.delete(waiter);
        reject(new PulseError('TIMEOUT', `not connected within ${this.#options.limits.requestTimeoutMs} ms`));
      }, this.#options.limits.requestTimeoutMs);
      this.#readyWaiters.add(waiter);
    });
  }

  #onFrame(bytes: Uint8Array): void {
    this.#lastReceivedAt = this.#now();
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
        this.#welcome?.resolve(frame);
        this.#welcome = undefined;
        return;
      case 'ping':
        this.#transport?.send(this.#codec.encode({ type: 'pong', nonce: frame.nonce }));
        return;
      case 'pong':
        return;
      case 'close':
        this.#welcome?.reject(new PulseError(frame.code as PulseErrorCode, frame.reason));
        this.#welcome = undefined;
        this.#onTransportClosed(`server closed: ${frame.code} ${frame.reason}`);
        return;
      case 'error':
        if (frame.id !== undefined && this.#pending.has(frame.id)) {
          const pending = this.#pending.get(frame.id)!;
          this.#pending.delete(frame.id);
          clearTimeout(pending.timer);
          const options = frame.retryAfterMs === undefined ? {} : { retryAfterMs: frame.retryAfterMs };
          pending.reject(new PulseError(frame.code as PulseErrorCode, frame.message, options));
          return;
        }
        if (this.#welcome !== undefined) {
          this.#welcome.reject(new PulseError(frame.code as PulseErrorCode, frame.message));
          this.#welcome = undefined;
          return;
        }
        this.#emit(frame);
        return;
      case 'deliver':
      case 'channel_message':
      case 'presence_snapshot':
      case 'presence_join':
      case 'presence_leave':
      case 'prekeys_low':
        this.#emit(frame);
        return;
      default:
        break;
    }
    const id = 'id' in frame ? frame.id : undefined;
    const pending = id === undefined ? undefined : this.#pending.get(id);
    if (id === undefined || pending === undefined) return; // a late answer to a timed-out request
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    if (frame.type === pending.expect) pending.resolve(frame);
    else pending.reject(new PulseError('UNEXPECTED_ANSWER', `expected ${pending.expect}, got ${frame.type}`));
  }

  #emit(frame: PushFrame): void {
    for (const listener of this.#pushListeners) {
      try {
        listener(frame);
      } catch {
        // A faulty listener must not break the connection.
      }
    }
  }

  #onTransportClosed(reason: string): void {
    const transport = this.#transport;
    this.#transport = undefined;
    clearInterval(this.#heartbeatTimer);
    transport?.close();
    this.#welcome?.reject(new PulseError('CONNECTION_CLOSED', reason));
    this.#welcome = undefined;
    this.#failPending(new PulseError('CONNECTION_CLOSED', reason));
    if (this.#status.state !== 'connected') return; // an attempt in progress reports its own failure
    this.#setStatus({ state: 'reconnecting', transport: undefined, lastError: reason });
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#status.state === 'closed' || this.#status.state === 'idle') return;
    const { reconnectBaseMs, reconnectMaxMs } = this.#options.limits;
    const delay = backoffDelay(this.#attempt, reconnectBaseMs, reconnectMaxMs, this.#random);
    this.#attempt += 1;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = setTimeout(() => {
      if (this.#connecting !== undefined || this.#status.state === 'connected') return;
      this.#connecting = this.#attemptConnect().finally(() => {
        this.#connecting = undefined;
      });
      this.#connecting.catch(() => this.#scheduleReconnect());
    }, delay);
  }

  #startHeartbeat(heartbeatMs: number): void {
    clearInterval(this.#heartbeatTimer);
    const interval = Math.max(1_000, Math.floor(heartbeatMs / 2));
    this.#heartbeatTimer = setInterval(() => {
      if (this.#now() - this.#lastReceivedAt > interval * 4) {
        this.#onTransportClosed('heartbeat timeout');
        return;
      }
      this.#transport?.send(this.#codec.encode({ type: 'ping', nonce: Math.floor(this.#random() * 0xffff_ffff) }));
    }, interval);
  }

  #failPending(error: Error): void {
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.#pending.clear();
  }

  #setStatus(status: ConnectionStatus): void {
    this.#status = status;
    for (const listener of this.#statusListeners) {
      try {
        listener(status);
      } catch {
        // Listeners are the caller's; their faults stay theirs.
      }
    }
  }
}

const ANSWERS: { readonly [T in RequestType]: AnswerOf[T] } = {
  register: 'auth_ok',
  auth: 'auth_ok',
  auth_token: 'auth_ok',
  device_link: 'device_linked',
  device_list: 'devices',
  device_remove: 'ok',
  prekeys_upload: 'ok',
  bundle_fetch: 'bundles',
  send: 'sent',
  sync: 'sync_done',
  subscribe: 'subscribed',
  unsubscribe: 'ok',
  publish: 'published',
};

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
