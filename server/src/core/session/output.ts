import type { Frame } from '@pulse/proto';

/** How a request handler answers on its session's connection. */
export interface SessionOutput {
  send(frame: Frame): void;
  /** Already-encoded bytes; `ephemeral` ones may be dropped by a slow consumer. */
  sendBytes(bytes: Uint8Array, ephemeral: boolean): void;
  sendError(id: number | undefined, code: string, message: string, retryAfterMs?: number): void;
  /** Counts a limit violation (metrics label). */
  limitHit(limit: string): void;
}
