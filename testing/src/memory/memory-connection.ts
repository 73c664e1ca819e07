import type { TransportEvents, TransportKind } from '@pulse/sdk';
import type {
  Connection,
  ConnectionAcceptor,
  ConnectionHandler,
  TransportKind as ServerTransportKind,
} from '@pulse/server';
import type { WireTransport } from '../protocol/wire-transport.ts';
import { FramePipe } from './frame-pipe.ts';

export interface MemoryConnectionOptions {
  /** What the client end reports as its `kind` (the SDK's connection status shows it). Default `websocket`. */
  readonly kind?: TransportKind;
  /** The server's label for the connection (its metrics show it). Default `kind`; `memory` says there is no network. */
  readonly serverTransport?: ServerTransportKind;
  /** The client's address as the server sees it (per-IP limits). Default `127.0.0.1`. */
  readonly remoteAddress?: string;
}

/** Who ended the connection, and how; `undefined` while it is open. */
export type MemoryCloseState =
  | { readonly by: 'server'; readonly code: string; readonly reason: string }
  | { readonly by: 'client' }
  | { readonly by: 'network'; readonly reason: string };

/**
 * A Pulse connection without a socket: `server` is the server's `Connection`
 * (handed to a `ConnectionAcceptor` such as `PulseNode.accept`), `client` is
 * the SDK's `FrameTransport` (a `WireTransport`: it can stop reading). Whole
 * frames cross on later event-loop turns. Either side's close first delivers
 * what that side had already sent (as a WebSocket close handshake follows the
 * data), then both sides learn of it once, on a later turn; the server's app
 * close code reaches the client's `onClose` reason. `cut` is the network
 * failing: nothing in flight arrives.
 */
export class MemoryConnection {
  readonly server: Connection;
  readonly client: WireTransport;
  readonly #events: TransportEvents;
  readonly #toClient: FramePipe;
  readonly #toServer: FramePipe;
  #handler: ConnectionHandler | undefined;
  #closing: MemoryCloseState | undefined;
  #closed = false;

  private constructor(events: TransportEvents, options: MemoryConnectionOptions) {
    const kind = options.kind ?? 'websocket';
    this.#events = events;
    this.#toClient = new FramePipe((frame) => {
      if (!this.#closed) events.onFrame(frame);
    });
    this.#toServer = new FramePipe((frame) => {
      if (!this.#closed) this.#handler?.onFrame(frame);
    });
    const toClient = this.#toClient;
    this.server = {
      transport: options.serverTransport ?? kind,
      remoteAddress: options.remoteAddress ?? '127.0.0.1',
      get bufferedAmount() {
        return toClient.bufferedAmount;
      },
      send: (frame) => {
        if (this.#closing === undefined) this.#toClient.push(frame);
      },
      close: (code, reason) => this.#close({ by: 'server', code, reason }, this.#toClient),
    };
    this.client = {
      kind,
      send: (frame) => {
        if (this.#closing === undefined) this.#toServer.push(frame);
      },
      close: () => this.#close({ by: 'client' }, this.#toServer),
      pauseReading: () => this.pauseClient(),
    };
  }

  /**
   * Opens a connection to `accept` (e.g. `PulseServer.accept`) on behalf of a
   * client listening with `events`. A refused connection (the acceptor returns
   * undefined) has already been closed by the server: the client sees its close.
   */
  static open(
    accept: ConnectionAcceptor,
    events: TransportEvents,
    options: MemoryConnectionOptions = {},
  ): MemoryConnection {
    const connection = new MemoryConnection(events, options);
    connection.#handler = accept(connection.server);
    return connection;
  }

  /** How the connection ended (or is ending); undefined while open. */
  get closeState(): MemoryCloseState | undefined {
    return this.#closing;
  }

  /** True once both sides were told the connection is gone. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes the client sent that the server has not received yet. */
  get clientBufferedAmount(): number {
    return this.#toServer.bufferedAmount;
  }

  /** The client stops reading: the server's `bufferedAmount` grows until `resumeClient` (or the server's close). */
  pauseClient(): void {
    this.#toClient.pause();
  }

  resumeClient(): void {
    this.#toClient.resume();
  }

  /** The network fails: frames in flight are lost, both sides learn on the next turn. */
  cut(reason = 'network cut (test)'): void {
    if (this.#closing !== undefined) return;
    this.#closing = { by: 'network', reason };
    this.#toClient.discard();
    this.#toServer.discard();
    setImmediate(() => this.#finish());
  }

  #close(state: MemoryCloseState, outgoing: FramePipe): void {
    if (this.#closing !== undefined) return;
    this.#closing = state;
    // The closing side's frames are delivered; what the other side still had in flight is lost with the connection.
    (outgoing === this.#toClient ? this.#toServer : this.#toClient).discard();
    outgoing.drain(() => this.#finish());
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#toClient.discard();
    this.#toServer.discard();
    this.#handler?.onClose();
    this.#events.onClose(describe(this.#closing));
  }
}

function describe(state: MemoryCloseState | undefined): string {
  switch (state?.by) {
    case 'server':
      return `memory connection closed by the server (${state.code}: ${state.reason})`;
    case 'client':
      return 'memory connection closed by the client';
    case 'network':
      return `memory connection lost: ${state.reason}`;
    default:
      return 'memory connection closed';
  }
}
