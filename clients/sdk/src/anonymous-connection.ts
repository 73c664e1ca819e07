import { type Frame, FrameCodec } from '@pulse/proto';
import { Greeting } from './connection/handshake.ts';
import { type Answer, MAX_RATE_LIMITED_RESENDS, type RequestFrame, RequestTable } from './connection/requests.ts';
import { PulseError, type PulseErrorCode } from './errors.ts';
import type { ClientLimits } from './limits.ts';
import type { ServerInfo } from './server-info.ts';
import { openFirst, serverInfo, type TransportMemory, transportOrder } from './transport/negotiate.ts';
import type { FrameTransport, TransportEvents, TransportFactories, TransportPreference } from './transport/types.ts';

/**
 * The anonymous connection (PROTOCOL.md "Anonymous connections"): a second
 * connection to the same server that says `hello` with `anonymous: true` and
 * never authenticates, so the sealed sends it carries reach the server from
 * no account at all, as Signal sends sealed messages over its unidentified
 * socket. It uses the same transport choice as the authenticated connection
 * (WebTransport first, WebSocket after), is opened when the first sealed send
 * needs it, and is closed after `anonymousIdleMs` without one. It does not
 * reconnect: a send that finds it closed opens a new one.
 *
 * What it does not hide: both connections come from the same address, and a
 * sealed send leaves right after the user acted on the authenticated one, so a
 * server that watches timing and addresses can still link them.
 */
export interface AnonymousConnectionOptions {
  /** The server's base URL (the authenticated connection's). */
  readonly server: string;
  readonly transport: TransportPreference;
  readonly factories: TransportFactories;
  readonly limits: ClientLimits;
  readonly clientName: string;
  /** What worked last time, per server: the authenticated connection's memory, read here, never written. */
  readonly memory?: TransportMemory;
  readonly now?: () => number;
}

/**
 * Answers about the envelopes themselves: the authenticated connection would
 * get the same, so they go to the caller. Any other failure is the anonymous
 * path's own (refused, closed, timed out, not offered by this server).
 */
const ENVELOPE_ANSWERS: ReadonlySet<PulseErrorCode> = new Set<PulseErrorCode>([
  'UNAUTHORIZED',
  'DEVICES_MISMATCH',
  'QUEUE_FULL',
  'STORAGE_FULL',
  'PAYLOAD_TOO_LARGE',
  'NOT_FOUND',
  'UNAVAILABLE',
]);

/** The longest `retryAfterMs` a sealed send waits out on the anonymous connection rather than leave it. */
const MAX_RATE_LIMITED_WAIT_MS = 5_000;

/** True for a refusal of the envelopes (see ENVELOPE_ANSWERS), false for a failure of the path. */
export function answersTheEnvelopes(error: unknown): boolean {
  return PulseError.is(error) && ENVELOPE_ANSWERS.has(error.code);
}

export class AnonymousConnection {
  readonly #options: AnonymousConnectionOptions;
  readonly #codec = new FrameCodec();
  readonly #now: () => number;
  #info: ServerInfo | undefined;
  #link: Promise<AnonymousLink> | undefined;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #inFlight = 0;
  /** When the path last failed: it is not tried again for `anonymousRetryMs`. */
  #failedAt: number | undefined;
  #closed = false;

  constructor(options: AnonymousConnectionOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Whether a sealed send should try this path now: not closed, and no failure within `anonymousRetryMs`. */
  get usable(): boolean {
    if (this.#closed) return false;
    const failedAt = this.#failedAt;
    return failedAt === undefined || this.#now() - failedAt >= this.#options.limits.anonymousRetryMs;
  }

  /**
   * Sends `frame` on the anonymous connection (opening it if need be) and
   * resolves with `sent`. Told to slow down (`RATE_LIMITED`, its own rates), it
   * waits `retryAfterMs` and sends again on the same connection, a few times:
   * going over the authenticated one instead would tell the server who sends.
   * A connection that had worked and closed under this send (the server's
   * `anonymous_idle` racing it, say) is replaced once. Any other failure of the
   * path (see answersTheEnvelopes) drops the connection and keeps the path
   * unused for `anonymousRetryMs`.
   */
  async sealedSend(frame: RequestFrame<'sealed_send'>): Promise<Answer<'sealed_send'>> {
    if (this.#closed) throw new PulseError('CLIENT_CLOSED', 'the anonymous connection was closed');
    this.#inFlight++;
    clearTimeout(this.#idleTimer);
    let replaced = false;
    let waits = 0;
    try {
      for (;;) {
        let link: AnonymousLink;
        try {
          link = await this.#connected();
        } catch (error) {
          this.#failed();
          throw error;
        }
        try {
          return await link.request(frame);
        } catch (error) {
          if (answersTheEnvelopes(error)) throw error;
          const wait = PulseError.is(error, 'RATE_LIMITED') ? error.retryAfterMs : undefined;
          if (wait !== undefined && wait <= MAX_RATE_LIMITED_WAIT_MS && waits < MAX_RATE_LIMITED_RESENDS) {
            waits++;
            await new Promise((resolve) => setTimeout(resolve, wait));
          } else if (!replaced && link.proven && link.closed) {
            replaced = true;
          } else {
            this.#failed();
            throw error;
          }
        }
      }
    } finally {
      this.#inFlight--;
      this.#armIdle();
    }
  }

  /** Closes the connection for good (the client is closing). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    this.#drop();
  }

  /**
   * The open link, or a new one when there is none or the last one closed.
   * Sends that wait on the same opening share its outcome, failure included.
   */
  async #connected(): Promise<AnonymousLink> {
    const pending = this.#link;
    if (pending !== undefined) {
      const link = await pending;
      if (!link.closed) return link;
      if (this.#link === pending) this.#link = undefined;
    }
    this.#link ??= this.#open();
    return this.#link;
  }

  /** The path failed: dropped, and not tried again for `anonymousRetryMs`. */
  #failed(): void {
    this.#failedAt = this.#now();
    this.#drop();
  }

  async #open(): Promise<AnonymousLink> {
    const { server, limits, factories, transport: preference, memory, clientName } = this.#options;
    this.#info ??= await serverInfo(server, factories, limits);
    const info = this.#info;
    const order = transportOrder(preference, info, factories, memory?.get(server), this.#now(), limits);
    const link = new AnonymousLink(this.#codec, limits);
    try {
      const transport = await openFirst(order, info, factories, limits, link.events);
      await link.greet(transport, clientName, limits.requestTimeoutMs);
      if (this.#closed) throw new PulseError('CLIENT_CLOSED', 'the anonymous connection was closed');
      return link;
    } catch (error) {
      // The server may have changed (ports, certificate): asked again next time.
      this.#info = undefined;
      link.close();
      throw error;
    }
  }

  #armIdle(): void {
    clearTimeout(this.#idleTimer);
    if (this.#inFlight > 0 || this.#closed) return;
    this.#idleTimer = setTimeout(() => this.#drop(), this.#options.limits.anonymousIdleMs);
  }

  #drop(): void {
    const link = this.#link;
    this.#link = undefined;
    void link?.then(
      (open) => open.close(),
      () => {},
    );
  }
}

/** One transport of the anonymous connection: its greeting, its requests, nothing else. */
class AnonymousLink {
  readonly #codec: FrameCodec;
  readonly #requests: RequestTable;
  readonly #greeting = new Greeting();
  #transport: FrameTransport | undefined;
  #closed = false;
  /** The server answered a request on it: the path worked. */
  #proven = false;
  readonly events: TransportEvents = {
    onFrame: (bytes) => this.#onFrame(bytes),
    onClose: (reason) => this.#ended(new PulseError('CONNECTION_CLOSED', reason)),
  };

  constructor(codec: FrameCodec, limits: ClientLimits) {
    this.#codec = codec;
    this.#requests = new RequestTable(limits);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** True once the server answered a request on this link. */
  get proven(): boolean {
    return this.#proven;
  }

  /** `hello` with `anonymous: true`; a server that does not grant it (no `anonymous` in `welcome`) is refused. */
  async greet(transport: FrameTransport, clientName: string, timeoutMs: number): Promise<void> {
    this.#transport = transport;
    if (this.#closed) throw new PulseError('CONNECTION_CLOSED', 'the transport closed before hello');
    const welcome = await this.#greeting.start(
      (hello) => transport.send(this.#codec.encode({ ...hello, anonymous: true })),
      clientName,
      timeoutMs,
    );
    if (welcome.anonymous !== true) {
      throw new PulseError('NOT_SUPPORTED', 'this server offers no anonymous connections');
    }
  }

  request(frame: RequestFrame<'sealed_send'>): Promise<Answer<'sealed_send'>> {
    const transport = this.#transport;
    if (this.#closed || transport === undefined) {
      return Promise.reject(new PulseError('CONNECTION_CLOSED', 'the anonymous connection closed'));
    }
    return this.#requests.issue(frame, (withId) => transport.send(this.#codec.encode(withId)));
  }

  close(): void {
    const transport = this.#transport;
    this.#ended(new PulseError('CONNECTION_CLOSED', 'closed by the client'));
    transport?.close();
  }

  #onFrame(bytes: Uint8Array): void {
    let frame: Frame;
    try {
      frame = this.#codec.decode(bytes);
    } catch {
      this.close();
      return;
    }
    switch (frame.type) {
      case 'welcome':
        this.#greeting.welcome(frame);
        return;
      case 'ping':
        this.#transport?.send(this.#codec.encode({ type: 'pong', nonce: frame.nonce }));
        return;
      case 'close':
        this.#ended(new PulseError(frame.code as PulseErrorCode, frame.reason));
        this.#transport?.close();
        return;
      case 'error':
        if (this.#requests.settle(frame)) {
          this.#proven = true;
          return;
        }
        // Refused unread (RATE_LIMITED without id) or instead of welcome: this path is not to be used now.
        this.#ended(new PulseError(frame.code as PulseErrorCode, frame.message));
        this.#transport?.close();
        return;
      default:
        if (this.#requests.settle(frame)) this.#proven = true;
    }
  }

  #ended(error: PulseError): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#greeting.fail(error);
    this.#requests.failAll(error);
  }
}
