import { generateIdentityKeyPair } from '@pulse/crypto';
import { type Frame, FrameCodec, registerSignedMessage } from '@pulse/proto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { type RunningServer, startServer } from '../../test/helpers/server.ts';
import type { PulseClient } from '../src/index.ts';
import { memoryClient } from './helpers.ts';

// Real servers, real processes: generous when the machine is busy (the 2 cores are shared).
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

let server: RunningServer;
let bob: PulseClient;

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await bob?.close();
  await server?.stop();
});

/** A bare protocol client (not the SDK) that looks at the bundles the server hands out. */
async function observer(baseUrl: string, name: string) {
  const codec = new FrameCodec();
  const socket = new WebSocket(`${baseUrl.replace('http', 'ws')}/pulse/ws`);
  socket.binaryType = 'arraybuffer';
  const inbox: Frame[] = [];
  const waiters: (() => void)[] = [];
  socket.on('message', (data: ArrayBuffer) => {
    inbox.push(codec.decode(new Uint8Array(data)));
    for (const w of waiters.splice(0)) w();
  });
  await new Promise((resolve) => socket.once('open', resolve));
  const next = async <T extends Frame['type']>(type: T): Promise<Extract<Frame, { type: T }>> => {
    for (;;) {
      const index = inbox.findIndex((f) => f.type === type || f.type === 'error');
      if (index >= 0) {
        const [frame] = inbox.splice(index, 1);
        if (frame!.type === 'error') throw new Error(`${frame!.code}: ${frame!.message}`);
        return frame as Extract<Frame, { type: T }>;
      }
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  socket.send(codec.encode({ type: 'hello', versions: [1], client: 'observer' }));
  const welcome = await next('welcome');
  const identity = generateIdentityKeyPair();
  const signature = identity.sign(registerSignedMessage(welcome.challenge, name, identity.publicKey));
  socket.send(
    codec.encode({
      type: 'register',
      id: 1,
      account: name,
      deviceName: 'o',
      identityKey: identity.publicKey,
      signature,
    }),
  );
  await next('auth_ok');
  let id = 2;
  return {
    async fetchBundle(account: string) {
      socket.send(codec.encode({ type: 'bundle_fetch', id: id++, account }));
      return (await next('bundles')).bundles[0]!;
    },
    close: () => socket.close(),
  };
}

describe('prekeys', () => {
  it('a device replenishes its one-time prekeys when the server says they run low', async () => {
    // A batch of 3 and the server's threshold of 10: every fetch leaves the device "low".
    ({ client: bob } = await memoryClient(server.baseUrl, { limits: { preKeyBatch: 3 } }));
    await bob.register('prekey-bob');
    const eve = await observer(server.baseUrl, 'prekey-observer');
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
