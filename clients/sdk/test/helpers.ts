import { WebSocket } from 'ws';
import {
  type ClientLimits,
  CryptoEngine,
  MemoryVault,
  PulseClient,
  type TransportFactories,
  type TransportPreference,
} from '../src/index.ts';
import { nodeTransportFactories } from '../src/node.ts';
import type { WebSocketLike } from '../src/transport/types.ts';

/** A client on a memory vault (the vault is returned too, to inspect or reopen the state). */
export async function memoryClient(
  server: string,
  options: {
    transport?: TransportPreference;
    factories?: TransportFactories;
    vault?: MemoryVault;
    limits?: Partial<ClientLimits>;
  } = {},
): Promise<{ client: PulseClient; vault: MemoryVault }> {
  const vault = options.vault ?? new MemoryVault();
  const client = await PulseClient.open({
    server,
    vault,
    engine: CryptoEngine.factory(),
    factories: options.factories ?? (await nodeTransportFactories()),
    transport: options.transport ?? 'websocket',
    limits: { reconnectBaseMs: 50, reconnectMaxMs: 500, webTransportTimeoutMs: 1_000, ...options.limits },
  });
  return { client, vault };
}

/** WebSocket factories that record every frame the client sends. */
export function recordingWebSocket(sent: Uint8Array[]): TransportFactories {
  return {
    webSocket: (url) => {
      const socket = new WebSocket(url);
      const send = socket.send.bind(socket);
      socket.send = ((data: Uint8Array) => {
        sent.push(new Uint8Array(data));
        send(data);
      }) as typeof socket.send;
      return socket as unknown as WebSocketLike;
    },
  };
}

/** Resolves when `predicate` holds, checking on every event of `client` and every 20 ms. */
export async function until(predicate: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
