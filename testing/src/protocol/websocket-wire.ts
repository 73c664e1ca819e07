import type { TransportEvents } from '@pulse/sdk';
import type { WireTransport } from './wire-transport.ts';

/**
 * An event handler property, checked as a method is (bivariantly): the browser's
 * and `ws`'s handlers take their own event classes, which carry these fields.
 */
type Handler<E> = { handle(event: E): void }['handle'] | null;

/** The part of the W3C WebSocket interface the wire uses: a browser's `WebSocket` and the `ws` package's both fit. */
export interface WebSocketLike {
  binaryType: string;
  onopen: Handler<unknown>;
  onmessage: Handler<{ data: unknown }>;
  onclose: Handler<{ code: number; reason: string }>;
  onerror: Handler<unknown>;
  send(data: Uint8Array<ArrayBuffer>): void;
  close(): void;
}

/**
 * Pulse over a WebSocket that is being opened (PROTOCOL.md "Framing": one binary
 * message per frame). Resolves once it is open; a socket that fails to open
 * rejects. `pause` stops reading the socket (Node's `ws` can, a browser's cannot).
 */
export function webSocketWire(
  socket: WebSocketLike,
  events: TransportEvents,
  pause?: () => void,
): Promise<WireTransport> {
  // A browser's default (Blob) would take an await per frame; `ws` hands over Buffers (Uint8Arrays) as they are.
  if (socket.binaryType === 'blob') socket.binaryType = 'arraybuffer';
  socket.onmessage = ({ data }) =>
    events.onFrame(data instanceof Uint8Array ? data : new Uint8Array(data as ArrayBuffer));
  socket.onclose = (event) => events.onClose(`websocket closed (${event.code} ${event.reason})`.trim());
  return new Promise((resolve, reject) => {
    socket.onerror = reject;
    socket.onopen = () =>
      resolve({
        kind: 'websocket',
        // Encoded frames live in plain ArrayBuffers. After the close, a send is dropped (the W3C API neither throws nor sends).
        send: (bytes) => socket.send(bytes as Uint8Array<ArrayBuffer>),
        close: () => socket.close(),
        pauseReading:
          pause ??
          (() => {
            throw new Error('this WebSocket cannot stop reading');
          }),
      });
  });
}
