import { WebSocket } from 'ws';
import { webSocketWire } from '../protocol/websocket-wire.ts';
import type { OpenTransport, WireTransport } from '../protocol/wire-transport.ts';

/**
 * Dials a Pulse WebSocket endpoint (`ws://host:port/pulse/ws`) from Node.
 * `pauseReading` stops reading the socket, so TCP flow control backs the server up.
 */
export function dialWebSocket(url: string): OpenTransport<WireTransport> {
  return (events) => {
    const socket = new WebSocket(url);
    return webSocketWire(socket, events, () => socket.pause());
  };
}
