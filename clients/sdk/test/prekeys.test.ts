import { FrameClient, InProcessServer } from '@pulse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PulseClient } from '../src/index.ts';
import { memoryClient } from './helpers.ts';

// A real server (core, SQLite file, timers) in this process; clients reach it over in-memory connections.
let server: InProcessServer;
let bob: PulseClient;

beforeAll(() => {
  server = InProcessServer.start();
});
afterAll(async () => {
  await bob?.close();
  await server?.stop();
});

/** A bare protocol client (not the SDK) that looks at the bundles the server hands out. */
async function observer(name: string) {
  const client = await FrameClient.open((events) => server.connect(events).client);
  await client.register(name);
  return {
    async fetchBundle(account: string) {
      client.send({ type: 'bundle_fetch', id: client.nextId(), account });
      return (await client.next('bundles')).bundles[0]!;
    },
    close: () => client.close(),
  };
}

describe('prekeys', () => {
  it('a device replenishes its one-time prekeys when the server says they run low', async () => {
    // A batch of 3 and the server's threshold of 10: every fetch leaves the device "low".
    ({ client: bob } = await memoryClient(server, { limits: { preKeyBatch: 3 } }));
    await bob.register('prekey-bob');
    const eve = await observer('prekey-observer');
    try {
      const seen = new Set<number>();
      // Without replenishment the 4th fetch would come back without a one-time prekey.
      for (let fetches = 0; fetches < 8; fetches++) {
        let bundle = await eve.fetchBundle('prekey-bob');
        for (let retry = 0; bundle.oneTimePreKey === undefined && retry < 100; retry++) {
          await bob.idle();
          await new Promise((resolve) => setTimeout(resolve, 50));
          bundle = await eve.fetchBundle('prekey-bob');
        }
        expect(bundle.oneTimePreKey, `fetch ${fetches}`).toBeDefined();
        expect(seen.has(bundle.oneTimePreKey!.keyId), 'a one-time prekey is handed out once').toBe(false);
        seen.add(bundle.oneTimePreKey!.keyId);
        expect(bundle.pqPreKeyIsLastResort).toBe(false);
      }
    } finally {
      eve.close();
    }
  });
});
