import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import {
  type Connection,
  type ConnectionAcceptor,
  type TransportServer,
  UNKNOWN_ADDRESS,
} from '../../core/connection.ts';
import type { PartialFrameBudget } from './partial-frames.ts';
import { paceReads, type ReadPacer, type ReadPacingLimits } from './read-pacing.ts';
import { flushAtEndOfTask } from './task-flush.ts';

export const WEBSOCKET_PATH = '/pulse/ws';

/** WebSocket close codes (RFC 6455 §7.4.1) for the app's close codes. */
function wsCloseCode(code: string): number {
  if (code === 'SERVER_SHUTDOWN') return 1001;
  if (code === 'SERVER_BUSY') return 1013;
  if (code === 'NORMAL') return 1000;
  return 1008;
}

/**
 * A `ws` socket as a Connection: one binary message carries exactly one frame.
 * The TCP socket is corked from the first frame of a task to its end
 * (task-flush.ts), so the frames sent to one peer meanwhile (a fan-out of
 * several publications read together, a burst of deliveries) leave in one
 * writev, not one write each. Corked bytes count in `bufferedAmount`, as queued ones do.
 */
class WebSocketConnection implements Connection {
  readonly transport = 'websocket' as const;
  readonly remoteAddress: string;
  readonly #socket: WebSocket;
  readonly #tcp: Duplex;
  readonly #pacer: ReadPacer | undefined;
  #corked = false;
  readonly #uncork = () => {
    this.#corked = false;
    this.#tcp.uncork();
  };

  constructor(socket: WebSocket, tcp: Duplex, remoteAddress: string, pacing: ReadPacing | undefined) {
    this.#socket = socket;
    this.#tcp = tcp;
    this.remoteAddress = remoteAddress;
    this.#pacer =
      pacing === undefined
        ? undefined
        : paceReads(
            tcp,
            pacing.limits,
            () => performance.now(),
            () => pacing.onPaused(this),
          );
  }

  /** Reads nothing more from the peer: the closing handshake (or its 5 s timeout) ends the socket. */
  stopReading(): void {
    this.#pacer?.stop();
    this.#tcp.pause();
  }

  get bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }

  send(frame: Uint8Array): void {
    if (this.#socket.readyState !== WebSocket.OPEN) return;
    if (!this.#corked) {
      this.#corked = true;
      this.#tcp.cork();
      flushAtEndOfTask(this.#uncork);
    }
    this.#socket.send(frame, { binary: true });
  }

  close(code: string, reason: string): void {
    if (this.#socket.readyState === WebSocket.OPEN || this.#socket.readyState === WebSocket.CONNECTING) {
      this.#socket.close(wsCloseCode(code), Buffer.from(reason).subarray(0, 120).toString());
      // A flooder's frames are not even parsed any more, and it is cut off a second later (time
      // for the close frame to leave); any other peer that never answers the closing handshake, after 5 s.
      const flooding = code === 'RATE_LIMITED';
      if (flooding) this.stopReading();
      setTimeout(() => this.#socket.terminate(), flooding ? 1_000 : 5_000).unref();
    }
  }
}

/**
 * Counts what `ws` holds of messages not yet complete: bytes read from the socket
 * (counted before `ws` parses them) minus the frames it delivered (messages,
 * pings, pongs). Fragment headers of a message split into fragments stay counted:
 * an over-estimate only the fragmenting peer pays for.
 */
function watchPartialFrames(ws: WebSocket, socket: Duplex, budget: PartialFrameBudget, overBudget: () => void): void {
  let held = 0;
  let over = false;
  const delivered = (payload: number) => {
    held = Math.max(0, held - wireBytes(payload));
  };
  socket.prependListener('data', (chunk: Buffer) => {
    held += chunk.length;
  });
  // After `ws` has parsed the chunk (its listener runs between the two): what is left is a partial frame.
  socket.on('data', () => {
    if (over || budget.set(ws, held)) return;
    over = true;
    budget.release(ws);
    overBudget();
  });
  ws.on('message', (data: RawData) => delivered(messageLength(data)));
  ws.on('ping', (data: Buffer) => delivered(data.length));
  ws.on('pong', (data: Buffer) => delivered(data.length));
  ws.on('close', () => budget.release(ws));
}

function messageLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, part) => sum + part.length, 0);
  return data.byteLength;
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Bytes a client's frame of `payload` bytes takes on the wire: header, mask key, payload (RFC 6455 §5.2). */
function wireBytes(payload: number): number {
  return 2 + (payload > 0xffff ? 8 : payload > 125 ? 2 : 0) + 4 + payload;
}

export interface WebSocketOptions {
  readonly maxFrameBytes: number;
  readonly path?: string;
  readonly accept: ConnectionAcceptor;
  /** The client's address key for per-IP limits (proxies, IPv6 /64); default: the TCP peer's address. */
  readonly clientAddress?: (request: IncomingMessage) => string;
  /** Bytes of messages received in part, over every connection; beyond it, `onOverBudget`. */
  readonly partialFrames?: PartialFrameBudget;
  /** Tells the peer why and closes it (the server sends `close SERVER_BUSY`). */
  readonly onOverBudget?: (connection: Connection) => void;
  /** Each connection's socket is read no faster than `limits.rateBytes` (read-pacing.ts); each pause is told to `onPaused`. */
  readonly readPacing?: ReadPacing;
}

export interface ReadPacing {
  readonly limits: ReadPacingLimits;
  readonly onPaused: (connection: Connection) => void;
}

/**
 * Serves WebSocket upgrades on `path` of an existing HTTP server. `maxFrameBytes`
 * is enforced by `ws` itself (a larger message closes with 1009 before it is buffered).
 */
export function attachWebSocket(http: HttpServer, options: WebSocketOptions): TransportServer {
  const path = options.path ?? WEBSOCKET_PATH;
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes, perMessageDeflate: false });
  let accepting = true;

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (!accepting || url.pathname !== path) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    request.socket.setNoDelay(true);
    wss.handleUpgrade(request, socket, head, (ws) => {
      const remoteAddress = options.clientAddress?.(request) ?? request.socket.remoteAddress ?? UNKNOWN_ADDRESS;
      const connection = new WebSocketConnection(ws, socket, remoteAddress, options.readPacing);
      const handler = options.accept(connection);
      if (handler === undefined) {
        // Refused (it was told why): whatever it still sends must not reach an unheard
        // 'error' event, which would end the process (a frame announcing 2^62 bytes does).
        ws.on('error', () => ws.terminate());
        return;
      }
      let closed = false;
      const finish = () => {
        if (closed) return;
        closed = true;
        handler.onClose();
      };
      if (options.partialFrames !== undefined) {
        watchPartialFrames(ws, request.socket, options.partialFrames, () => {
          options.onOverBudget?.(connection);
          connection.stopReading();
        });
      }
      ws.on('message', (data, isBinary) => {
        if (!isBinary) {
          handler.onFramingError(new Error('text messages are not Pulse frames'));
          return;
        }
        handler.onFrame(toBytes(data));
      });
      ws.on('error', (error) => {
        handler.onFramingError(error);
        ws.terminate();
      });
      ws.on('close', finish);
    });
  };
  http.on('upgrade', onUpgrade);

  return {
    kind: 'websocket',
    async stopAccepting() {
      accepting = false;
      http.off('upgrade', onUpgrade);
    },
    async close(graceMs: number) {
      const deadline = Date.now() + graceMs;
      while (wss.clients.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
