import type { InProcessServer } from '@pulse/testing';
import {
  type ClientLimits,
  CryptoEngine,
  MemoryVault,
  PulseClient,
  type TransportFactories,
  type TransportPreference,
} from '../src/index.ts';
import { nodeTransportFactories } from '../src/node.ts';

/**
 * A client on a memory vault (the vault is returned too, to inspect or reopen the
 * state). `server` is a URL (a real server, over real sockets) or an in-process
 * server (reached over in-memory connections).
 */
export async function memoryClient(
  server: string | InProcessServer,
  options: {
    transport?: TransportPreference;
    factories?: TransportFactories;
    vault?: MemoryVault;
    limits?: Partial<ClientLimits>;
    sealedSender?: boolean;
    sealedSenderTrustRoot?: Uint8Array;
  } = {},
): Promise<{ client: PulseClient; vault: MemoryVault }> {
  const vault = options.vault ?? new MemoryVault();
  const inProcess = typeof server !== 'string';
  const client = await PulseClient.open({
    server: inProcess ? server.url : server,
    vault,
    engine: CryptoEngine.factory(),
    factories: options.factories ?? (inProcess ? server.transportFactories() : await nodeTransportFactories()),
    transport: options.transport ?? 'websocket',
    limits: { reconnectBaseMs: 50, reconnectMaxMs: 500, webTransportTimeoutMs: 1_000, ...options.limits },
    ...(options.sealedSender === undefined ? {} : { sealedSender: options.sealedSender }),
    ...(options.sealedSenderTrustRoot === undefined ? {} : { sealedSenderTrustRoot: options.sealedSenderTrustRoot }),
  });
  return { client, vault };
}

/** In-memory connections to `server` that record every frame the client sends. */
export function recordingConnection(server: InProcessServer, sent: Uint8Array[]): TransportFactories {
  return {
    direct: {
      kind: 'websocket',
      open: (events) => {
        const { client } = server.connect(events);
        return {
          kind: client.kind,
          send: (frame) => {
            sent.push(new Uint8Array(frame));
            client.send(frame);
          },
          close: () => client.close(),
        };
      },
    },
  };
}

/** Resolves when `predicate` holds, checking every 10 ms. */
export async function until(predicate: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
