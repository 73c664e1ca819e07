import type { Frame } from '@pulse/proto';
import type { FrameClient } from '@pulse/testing/protocol';

/**
 * Answers the server's heartbeat `ping` with `pong` (PROTOCOL.md "Liveness"), as
 * every real client does: a quiet client would be closed with HEARTBEAT_TIMEOUT.
 * True when `frame` was a ping.
 */
export function answerPing(client: FrameClient, frame: Frame): boolean {
  if (frame.type !== 'ping') return false;
  client.send({ type: 'pong', nonce: frame.nonce });
  return true;
}
