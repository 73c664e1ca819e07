/**
 * An idle-connection generator (its own process; one process may open 20,000
 * files, so the suite spreads connections over several, each from its own
 * loopback address). Opens connections and holds them without sending more:
 * - ws: a WebSocket to the bare `ws` server;
 * - pulse-ws: a WebSocket to Pulse, then hello → welcome;
 * - pulse-wt: a WebTransport session to Pulse, then hello → welcome.
 */
import type { FrameClient } from '@pulse/testing';
import { WebSocket } from 'ws';
import { serveRequests } from '../lib/ipc.ts';
import { keepAlive, pulseDial, pulseTesting, type Target } from './systems.ts';

const held: { close(): void }[] = [];

/**
 * A connect that has not completed after this counts as failed: a WebTransport
 * handshake whose Initial the server dropped (its per-source handshake bound)
 * may otherwise wait forever for `ready`.
 */
const CONNECT_TIMEOUT_MS = 30_000;

function withTimeout<T>(attempt: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no connection after ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
  });
  return Promise.race([attempt, timeout]).finally(() => clearTimeout(timer));
}

async function openOne(target: Target, localAddress: string): Promise<{ close(): void }> {
  if (target.system === 'ws') {
    const socket = new WebSocket(`${target.url}/sub`, { localAddress, perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return { close: () => socket.terminate() };
  }
  // Loaded before the socket exists: its open event must find the wire's handler set.
  const testing = await pulseTesting();
  if (target.system === 'pulse-ws') {
    const socket = new WebSocket(target.url, { localAddress, perMessageDeflate: false });
    const client: FrameClient = await testing.FrameClient.connect((events) =>
      testing.webSocketWire(socket, events, () => socket.pause()),
    );
    return client;
  }
  const client: FrameClient = await testing.FrameClient.connect(await pulseDial(target));
  // QUIC closes a session silent for 30 s; TCP keeps an idle WebSocket without help.
  keepAlive(client);
  return client;
}

serveRequests({
  /** Opens `count` connections, `concurrency` at a time; answers how many opened and how long it took. */
  async open({
    target,
    count,
    localAddress,
    concurrency,
  }: {
    target: Target;
    count: number;
    localAddress: string;
    concurrency: number;
  }) {
    let next = 0;
    let failed = 0;
    let firstError = '';
    const started = performance.now();
    const worker = async () => {
      while (next < count) {
        next++;
        try {
          held.push(await withTimeout(openOne(target, localAddress)));
        } catch (error) {
          failed++;
          firstError ||= error instanceof Error ? error.message : String(error);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
    return { opened: count - failed, failed, firstError, seconds: (performance.now() - started) / 1000 };
  },
  close() {
    for (const connection of held.splice(0)) connection.close();
  },
});
