import type { FrameTransport, TransportEvents } from '@pulse/sdk';

/**
 * A client transport as a test drives it: the SDK's `FrameTransport` (whole
 * frames out, whole frames and one `onClose` in) that can also stop reading, so
 * the server's sends back up as they do behind a slow reader. The in-memory
 * connection, `dialWebSocket` and `dialWebTransport` all give one.
 */
export interface WireTransport extends FrameTransport {
  /** Stops taking frames off the connection: the server's `bufferedAmount` grows (a slow consumer). */
  pauseReading(): void;
}

/** Opens one client transport: the SDK's openers, an in-memory connection, or a test dialer. */
export type OpenTransport<T extends FrameTransport = FrameTransport> = (events: TransportEvents) => T | Promise<T>;
