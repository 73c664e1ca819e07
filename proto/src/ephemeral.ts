import type { FrameType } from './frames.ts';

/**
 * Ephemeral events (PROTOCOL.md "Ephemeral events"): typing indicators, read
 * cursors, presence pings. Relayed to the recipient's devices that are online
 * at that moment, never stored, never answered; lost when nobody listens.
 */

/**
 * Largest `payload` of `send_ephemeral` and `ephemeral`. Small on purpose; it
 * still holds a typing indicator sent before the recipient's first reply,
 * whose Double Ratchet message carries the PQXDH header (the SDK's is 1873
 * bytes then, 227 after; an ML-KEM-1024 ciphertext alone is 1568).
 */
export const MAX_EPHEMERAL_PAYLOAD_BYTES = 4096;

/**
 * The only frame types a WebTransport datagram may carry (PROTOCOL.md
 * "Framing"): each datagram holds exactly one of them, unprefixed. Anything
 * else arriving on a datagram is dropped.
 */
export const DATAGRAM_FRAME_TYPES: readonly FrameType[] = Object.freeze(['send_ephemeral', 'ephemeral']);

/** Whether a frame of `type` may travel in a datagram. */
export function isDatagramFrameType(type: string): boolean {
  return (DATAGRAM_FRAME_TYPES as readonly string[]).includes(type);
}
