/**
 * End-to-end encrypted messaging generator (its own process): two SDK clients
 * (@pulse/sdk, memory vaults, the real crypto engine) registered on the server,
 * alice sending texts to bob with WINDOW sends outstanding; counted when bob's
 * client emits them, decrypted.
 */
import type { PulseClient } from '@pulse/sdk';
import { serveRequests } from '../lib/ipc.ts';

type Client = PulseClient;

let alice: Client | undefined;
let bob: Client | undefined;
let bobAccount = '';
let onMessage: () => void = () => {};

async function openClient(server: string, transport: 'websocket' | 'webtransport'): Promise<Client> {
  const sdk = await import('@pulse/sdk');
  const { nodeTransportFactories } = await import('@pulse/sdk/node');
  return sdk.PulseClient.open({
    server,
    vault: new sdk.MemoryVault(),
    engine: sdk.CryptoEngine.factory(),
    factories: await nodeTransportFactories(),
    transport,
  });
}

serveRequests({
  async open({ server, transport }: { server: string; transport: 'websocket' | 'webtransport' }) {
    const tag = `${process.pid}${transport === 'websocket' ? 'w' : 't'}${Date.now() % 100_000}`;
    alice = await openClient(server, transport);
    bob = await openClient(server, transport);
    await alice.register(`alice${tag}`);
    bobAccount = `bob${tag}`;
    await bob.register(bobAccount);
    bob.on('message', () => onMessage());
    // The first message sets the session up (bundle fetch, PQXDH): not part of the measurement.
    const first = new Promise<void>((resolve) => {
      onMessage = resolve;
    });
    await alice.sendText(bobAccount, 'hello');
    await first;
    return alice.status;
  },
  async run({ messages, window, bytes }: { messages: number; window: number; bytes: number }) {
    const sender = alice;
    if (sender === undefined) throw new Error('open first');
    const text = 'x'.repeat(bytes);
    let received = 0;
    const all = new Promise<void>((resolve) => {
      onMessage = () => {
        if (++received === messages) resolve();
      };
    });
    const started = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < messages) {
        next++;
        await sender.sendText(bobAccount, text);
      }
    };
    await Promise.all(Array.from({ length: window }, worker));
    await all;
    return messages / ((performance.now() - started) / 1000);
  },
  async close() {
    await Promise.all([alice?.close(), bob?.close()]);
  },
});
