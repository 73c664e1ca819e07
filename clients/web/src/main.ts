/**
 * The web client's entry, bundled by the server into /app.js. It takes the
 * profile lock (one tab per profile), opens the profile in IndexedDB (sealed by
 * a non-extractable WebCrypto key), picks the transport (native WebTransport
 * with the server's certificate hash, else WebSocket) and starts the chat page.
 */
import { browserTransportFactories, CryptoEngine, IndexedDbVault, PulseClient } from '@pulse/sdk';
import { ChatApp } from './app.ts';
import { holdProfileLock } from './profile-lock.ts';

/** The name this device gets in the account's device list: the browser and the system it runs on. */
function deviceName(): string {
  const agent = navigator.userAgent;
  const browser = /Firefox\//.test(agent) ? 'Firefox' : /Chrom(e|ium)\//.test(agent) ? 'Chromium' : 'browser';
  const system = /Android/.test(agent)
    ? 'Android'
    : /iPhone|iPad/.test(agent)
      ? 'iOS'
      : /Mac OS X/.test(agent)
        ? 'macOS'
        : /Windows/.test(agent)
          ? 'Windows'
          : /Linux/.test(agent)
            ? 'Linux'
            : undefined;
  return system === undefined ? browser : `${browser} on ${system}`;
}

async function boot(): Promise<void> {
  const root = document.getElementById('app')!;
  if (!(await holdProfileLock())) {
    root.dataset.state = 'locked';
    root.textContent =
      'locks' in navigator
        ? 'Pulse is already open in another tab of this browser. Use that tab, or close it and reload.'
        : 'This browser cannot keep a second tab from using the same keys (no Web Locks), so Pulse does not open here.';
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
      deviceName: deviceName(),
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
