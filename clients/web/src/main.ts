/**
 * The web client's entry, bundled by the server into /app.js. It opens the
 * profile in IndexedDB (sealed by a non-extractable WebCrypto key), picks the
 * transport (native WebTransport with the server's certificate hash, else
 * WebSocket) and starts the chat page.
 */
import { browserTransportFactories, CryptoEngine, IndexedDbVault, PulseClient } from '@pulse/sdk';
import { ChatApp } from './app.ts';

async function boot(): Promise<void> {
  const root = document.getElementById('app')!;
  try {
    const vault = await IndexedDbVault.open();
    const client = await PulseClient.open({
      server: location.origin,
      vault,
      engine: CryptoEngine.factory(),
      factories: browserTransportFactories(),
      transport: 'auto',
      clientName: 'pulse-web/0.1',
      deviceName: 'browser',
      presence: true,
    });
    (globalThis as { pulse?: PulseClient }).pulse = client; // for the console and tests
    await new ChatApp(client, root).start();
  } catch (error) {
    root.textContent = `Pulse could not start: ${error instanceof Error ? error.message : String(error)}`;
  }
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/sw.js').catch(() => {
      // Installability is optional; the page works without it.
    });
  }
}

void boot();
