/**
 * The web client's entry, bundled by the server into /app.js. It opens the
 * profile in IndexedDB (sealed by a non-extractable WebCrypto key), picks the
 * transport (native WebTransport with the server's certificate hash, else
 * WebSocket) and starts the chat page.
 */
import { browserTransportFactories, CryptoEngine, IndexedDbVault, PulseClient } from '@pulse/sdk';
import { ChatApp } from './app.ts';

/**
 * One tab per profile: two tabs writing the same sessions would corrupt them.
 * The Web Locks API holds the lock for the life of the page.
 */
function holdProfileLock(): Promise<boolean> {
  if (!('locks' in navigator)) return Promise.resolve(true);
  return new Promise((resolve) => {
    void navigator.locks.request('pulse-profile', { ifAvailable: true }, (lock) => {
      resolve(lock !== null);
      return lock === null ? undefined : new Promise<never>(() => {});
    });
  });
}

async function boot(): Promise<void> {
  const root = document.getElementById('app')!;
  if (!(await holdProfileLock())) {
    root.textContent = 'Pulse is already open in another tab of this browser. Use that tab, or close it and reload.';
    return;
  }
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
