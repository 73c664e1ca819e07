import { type OpenTransport, type WireTransport, webSocketWire } from '@pulse/testing/protocol';
import { WebSocket } from 'ws';

/**
 * Dials Pulse over WebSocket from a chosen loopback address (127.0.0.0/8 is all
 * loopback on Linux): one machine plays several IP addresses, so per-IP limits
 * can be tried on one "IP" while the others are measured.
 */
export function dialWebSocketFrom(url: string, localAddress: string): OpenTransport<WireTransport> {
  return (events) => {
    const socket = new WebSocket(url, { localAddress, perMessageDeflate: false });
    return webSocketWire(socket, events, () => socket.pause());
  };
}
