import { PulseError } from '../errors.ts';
import type { FrameTransport, TransportEvents, WebSocketFactory, WebSocketLike } from './types.ts';

const OPEN = 1;

/**
 * Pulse over WebSocket (PROTOCOL.md "Framing"): one frame per binary message,
 * no length prefix. Resolves once the socket is open, or fails after `timeoutMs`.
 */
export function openWebSocket(
  factory: WebSocketFactory,
  url: string,
  timeoutMs: number,
  events: TransportEvents,
): Promise<FrameTransport> {
  return new Promise((resolve, reject) => {
    let socket: WebSocketLike;
    try {
      socket = factory(url);
    } catch (cause) {
      reject(new PulseError('SERVER_UNREACHABLE', `cannot open WebSocket ${url}`, { cause }));
      return;
    }
    socket.binaryType = 'arraybuffer';
    let opened = false;
    let closed = false;
    const timer = setTimeout(() => {
      socket.close();
      reject(new PulseError('TIMEOUT', `WebSocket ${url} did not open within ${timeoutMs} ms`));
    }, timeoutMs);

    const transport: FrameTransport = {
      kind: 'websocket',
      send(frame) {
        if (socket.readyState === OPEN) socket.send(frame);
      },
      close() {
        socket.close(1000, 'client closed');
      },
    };

    socket.onopen = () => {
      opened = true;
      clearTimeout(timer);
      resolve(transport);
    };
    socket.onmessage = (event) => {
      const bytes = toBytes(event.data);
      if (bytes === undefined) {
        // A text message is not Pulse: the peer is broken, so is the connection.
        socket.close(1003, 'binary frames only');
        return;
      }
      events.onFrame(bytes);
    };
    socket.onerror = () => {
      // The close event follows with the details; nothing to do here.
    };
    socket.onclose = (event) => {
      clearTimeout(timer);
      if (!opened) {
        reject(new PulseError('SERVER_UNREACHABLE', `WebSocket ${url} closed before opening (${event.code})`));
        return;
      }
      if (closed) return;
      closed = true;
      events.onClose(`websocket closed (${event.code}${event.reason ? `: ${event.reason}` : ''})`);
    };
  });
}

function toBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}
