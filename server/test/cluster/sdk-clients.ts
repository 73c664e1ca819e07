import { CryptoEngine, MemoryVault, PulseClient, type StoredMessage } from '@pulse/sdk';
import { nodeTransportFactories } from '@pulse/sdk/node';

/** An SDK client (end-to-end encrypted, memory vault) whose server is `baseUrl` (a node, or a proxy in front of nodes). */
export async function sdkClient(baseUrl: string, vault = new MemoryVault()): Promise<PulseClient> {
  return PulseClient.open({
    server: baseUrl,
    vault,
    engine: CryptoEngine.factory(),
    factories: await nodeTransportFactories(),
    transport: 'websocket',
    limits: { reconnectBaseMs: 50, reconnectMaxMs: 500 },
  });
}

/** Every message the client shows from now on, in arrival order. */
export function inbox(client: PulseClient): StoredMessage[] {
  const received: StoredMessage[] = [];
  client.on('message', (message) => received.push(message));
  return received;
}
