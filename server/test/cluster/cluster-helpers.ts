import type { ServerProcess } from '@pulse/testing';
import { dialWebSocket } from '@pulse/testing';

/** A WebSocket to one node of the cluster. */
export const dial = (node: ServerProcess) => dialWebSocket(node.websocketUrl);

/** Waits (polling, bounded) until `condition` holds: how fast processes start or reconnect is not the subject. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
