/**
 * @pulse/testing/protocol: the bare protocol client and its wires, browser-safe
 * (no Node module): a test page can speak Pulse with them too. Node's dialers
 * (`dialWebSocket`, `dialWebTransport`) are in the main entry.
 */
export { type Device, linkDevice, reconnect, register, uniqueAccount } from './devices.ts';
export { FrameClient } from './frame-client.ts';
export { FrameClientError, type FrameClientErrorCode } from './frame-client-error.ts';
export { TEST_CODEC } from './test-codec.ts';
export { type WebSocketLike, webSocketWire } from './websocket-wire.ts';
export { type WebTransportLike, type WebTransportWire, webTransportWire } from './webtransport-wire.ts';
export type { OpenTransport, WireTransport } from './wire-transport.ts';
