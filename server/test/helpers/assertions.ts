import type { FrameClient } from '@pulse/testing';
import { expect } from 'vitest';

/** `n` bytes of `fill`. */
export const bytes = (n: number, fill = 7): Uint8Array => new Uint8Array(n).fill(fill);

/** Waits for the server's `close` frame with `code`, then for the connection to end. */
export async function expectClose(client: FrameClient, code: string): Promise<void> {
  const close = await client.next('close');
  expect(close.code).toBe(code);
  await client.closed();
}

/**
 * Waits until `predicate` holds, or `timeoutMs` has passed: over real sockets the
 * server learns of a close a little later. The caller's `expect` says which.
 */
export async function until(predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}
