import { createSocket, type Socket } from 'node:dgram';
import { InProcessServer, type MemoryConnection, type ServerProcess, spawnServer } from '@pulse/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ConnectionStatus, PulseClient, TransportFactories } from '../src/index.ts';
import { nodeTransportFactories } from '../src/node.ts';
import { memoryClient, until } from './helpers.ts';

// What a user meets on the network runs against the real server process over real
// sockets (WebTransport, the fallback to WebSocket, restarts): generous when the
// machine is busy (the 2 cores are shared).
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

let server: ServerProcess;
let blackhole: Socket;
const clients: PulseClient[] = [];

beforeAll(async () => {
  server = await spawnServer();
  // A UDP port that swallows everything: WebTransport "blocked by the network".
  blackhole = createSocket('udp4');
  await new Promise<void>((resolve) => blackhole.bind(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  for (const client of clients) await client.close();
  blackhole?.close();
  await server?.stop();
});

describe('transport negotiation against a real server', () => {
  it('auto picks WebTransport when it works', async () => {
    const { client } = await memoryClient(server.baseUrl, { transport: 'auto' });
    clients.push(client);
    await client.register('auto-wt');
    expect(client.status).toMatchObject({ state: 'connected', transport: 'webtransport' });
  });

  it('falls back to WebSocket when WebTransport is blocked, and remembers it', async () => {
    const real = await nodeTransportFactories();
    let webTransportAttempts = 0;
    const factories: TransportFactories = {
      webSocket: real.webSocket!,
      webTransport: (url, options) => {
        webTransportAttempts++;
        const blocked = new URL(url);
        blocked.port = String(blackhole.address().port);
        return real.webTransport!(blocked.href, options);
      },
    };
    const { client } = await memoryClient(server.baseUrl, { transport: 'auto', factories });
    clients.push(client);
    const statuses: ConnectionStatus[] = [];
    client.on('status', (status) => statuses.push(status));
    await client.register('blocked-wt');
    expect(client.status).toMatchObject({ state: 'connected', transport: 'websocket' });
    expect(webTransportAttempts).toBe(1);

    // A reconnect goes straight to WebSocket: the blocked WebTransport costs its timeout once.
    await server.stop();
    server = await spawnServer({
      httpPort: server.httpPort,
      webtransportPort: server.webtransportPort,
      dataDir: server.dataDir,
    });
    await until(() => statuses.filter((s) => s.state === 'connected').length >= 2, 'the reconnect');
    expect(client.status.transport).toBe('websocket');
    expect(webTransportAttempts).toBe(1);
  });
});

describe('reconnect and resume', () => {
  it('both sides come back after a server restart and messages flow again, pending ones included', async () => {
    const { client: alice } = await memoryClient(server.baseUrl, { transport: 'webtransport' });
    const { client: bob, vault: bobVault } = await memoryClient(server.baseUrl, { transport: 'websocket' });
    clients.push(alice, bob);
    await alice.register('resume-alice');
    await bob.register('resume-bob');
    await alice.sendText('resume-bob', 'before the restart');
    await bob.sync();

    const seen: string[] = [];
    bob.on('status', (status) => seen.push(status.state));
    await server.stop();
    await until(() => alice.status.state === 'reconnecting' && bob.status.state === 'reconnecting', 'both to notice');
    server = await spawnServer({
      httpPort: server.httpPort,
      webtransportPort: server.webtransportPort,
      dataDir: server.dataDir,
    });
    await until(() => alice.status.state === 'connected' && bob.status.state === 'connected', 'both to reconnect');
    expect(alice.status.transport).toBe('webtransport');
    expect(seen).toContain('reconnecting');

    await alice.sendText('resume-bob', 'after the restart');
    await until(() => bob.messages('user:resume-alice').length === 2, 'live delivery after the reconnect');

    // Bob goes offline; alice writes; bob comes back on the same profile and gets the rest once.
    await bob.close();
    await alice.sendText('resume-bob', 'while you were away');
    await alice.sendText('resume-bob', 'and once more');
    const { client: bobAgain } = await memoryClient(server.baseUrl, { transport: 'websocket', vault: bobVault });
    clients.push(bobAgain);
    await bobAgain.connect();
    await bobAgain.sync();
    expect(bobAgain.messages('user:resume-alice').map((m) => m.text)).toEqual([
      'before the restart',
      'after the restart',
      'while you were away',
      'and once more',
    ]);
  });
});

describe('channels', () => {
  // Not about sockets: the in-process server, and a connection the test cuts.
  let local: InProcessServer;
  beforeAll(() => {
    local = InProcessServer.start();
  });
  afterAll(async () => {
    await local?.stop();
  });

  it('a subscriber that lost its connection gets what was published meanwhile, once, from the last offset', async () => {
    const { client: alice } = await memoryClient(local);
    clients.push(alice);
    await alice.register('chan-alice');

    // Bob's connections: the test can cut them, and keep him from reconnecting until it says so.
    const connections: MemoryConnection[] = [];
    let gateOpen = true;
    const factories: TransportFactories = {
      direct: {
        kind: 'websocket',
        open: (events) => {
          if (!gateOpen) throw new Error('network down (test)');
          const connection = local.connect(events);
          connections.push(connection);
          return connection.client;
        },
      },
    };
    const { client: bob } = await memoryClient(local, { factories });
    clients.push(bob);
    await bob.register('chan-bob');
    const received: string[] = [];
    const resets: string[] = [];
    bob.on('channel', (m) => received.push(new TextDecoder().decode(m.payload)));
    bob.on('channel_reset', (r) => resets.push(r.channel));
    await bob.subscribeChannel('public:news');

    const say = (text: string) => alice.publish('public:news', new TextEncoder().encode(text));
    await say('one');
    await until(() => received.length === 1, 'the live publication');

    gateOpen = false;
    connections.at(-1)!.cut();
    await until(() => bob.status.state === 'reconnecting', 'bob to notice');
    await say('two');
    await say('three');
    gateOpen = true;
    await until(() => bob.status.state === 'connected', 'bob to reconnect');
    await until(() => received.length === 3, 'the replay');
    await say('four');
    await until(() => received.length === 4, 'live again');
    expect(received).toEqual(['one', 'two', 'three', 'four']);
    expect(resets).toEqual([]);
  });
});
