import { join } from 'node:path';
import { type Frame, FrameCodec, StreamFrameDecoder } from '@pulse/proto';
import { dialWebSocket, FrameClient, type ServerProcess, spawnServer } from '@pulse/testing';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { PulseClient, TransportFactories, WebTransportLike } from '../src/index.ts';
import { nodeTransportFactories } from '../src/node.ts';
import { memoryClient, until } from './helpers.ts';

// The real server process over real sockets: generous when the machine is busy (the 2 cores are shared).
vi.setConfig({ hookTimeout: 120_000, testTimeout: 120_000 });

/**
 * Sealed sends over the anonymous connection (PROTOCOL.md "Anonymous
 * connections"), SDK to the server process, over WebSocket and WebTransport:
 * every `sealed_send` leaves on a connection that said `hello` with
 * `anonymous: true` and never authenticated, the authenticated connections
 * carry none (the frames each connection sent are recorded on the wire, and
 * the server's metrics count sealed sends by kind of connection); idle, the
 * anonymous connection closes and the next sealed send opens a new one. When
 * the server refuses it, sealed sends fall back to the authenticated
 * connection, still sealed, never plain.
 */
const codec = new FrameCodec();
const clients: PulseClient[] = [];
const servers: ServerProcess[] = [];

afterAll(async () => {
  for (const client of clients) await client.close().catch(() => {});
  for (const server of servers) await server.stop();
});

async function startServer(limits: Parameters<typeof spawnServer>[0] = {}): Promise<ServerProcess> {
  const server = await spawnServer({ webtransport: true, ...limits });
  servers.push(server);
  return server;
}

/** Every frame one transport connection sent, in order. */
type Wire = Frame[];

/** The node factories, recording what each WebSocket and WebTransport connection sends into `wires`. */
async function recordingFactories(wires: Wire[]): Promise<TransportFactories> {
  const node = await nodeTransportFactories();
  const webSocket = node.webSocket!;
  const webTransport = node.webTransport!;
  return {
    webSocket: (url) => {
      const socket = webSocket(url);
      const wire: Wire = [];
      wires.push(wire);
      const send = socket.send.bind(socket);
      socket.send = (data) => {
        wire.push(codec.decode(new Uint8Array(data)));
        send(data);
      };
      return socket;
    },
    webTransport: (url, options) => {
      const session = webTransport(url, options);
      const wire: Wire = [];
      wires.push(wire);
      const recorded: WebTransportLike = {
        ready: session.ready,
        closed: session.closed,
        close: (info) => session.close(info),
        get datagrams() {
          return session.datagrams;
        },
        createBidirectionalStream: async () => {
          const stream = await session.createBidirectionalStream();
          const writer = stream.writable.getWriter();
          const frames = new StreamFrameDecoder(1 << 20);
          const writable = new WritableStream<Uint8Array>({
            write: async (chunk) => {
              for (const frame of frames.push(chunk)) wire.push(codec.decode(frame));
              await writer.write(chunk);
            },
            close: () => writer.close(),
            abort: (reason) => writer.abort(reason),
          });
          return { readable: stream.readable, writable };
        },
      };
      return recorded;
    },
  };
}

const has = (wire: Wire, type: Frame['type']) => wire.some((frame) => frame.type === type);
const authenticates = (wire: Wire) => has(wire, 'auth') || has(wire, 'auth_token') || has(wire, 'register');
const saidAnonymousHello = (wire: Wire) => wire[0]?.type === 'hello' && wire[0].anonymous === true;

/** The value of one sample of the server's /metrics, 0 when absent. */
async function metric(server: ServerProcess, sample: string): Promise<number> {
  const text = await (await fetch(server.metricsUrl)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
}

async function untilMetric(server: ServerProcess, sample: string, wanted: (value: number) => boolean) {
  for (let waited = 0; ; waited += 50) {
    if (wanted(await metric(server, sample))) return;
    if (waited > 30_000) throw new Error(`timed out waiting for ${sample}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Alice and bob on `server`, past their first, plain exchange: from now on each seals to the other. */
async function contacts(server: ServerProcess, transport: 'websocket' | 'webtransport', wires: Wire[]) {
  const factories = await recordingFactories(wires);
  const suffix = `${transport.slice(0, 2)}${Date.now().toString(36)}`;
  const names = { alice: `aa-${suffix}`, bob: `ab-${suffix}` };
  const limits = { anonymousIdleMs: 300 };
  const { client: alice } = await memoryClient(server.baseUrl, { transport, factories, limits });
  const { client: bob, vault: bobVault } = await memoryClient(server.baseUrl, { transport, factories, limits });
  clients.push(alice, bob);
  await alice.register(names.alice);
  await bob.register(names.bob);
  const problems: string[] = [];
  for (const client of [alice, bob]) client.on('problem', (p) => problems.push(p.reason));
  // First contact is plain (no token yet): the text carries alice's profile key, bob's receipt his.
  const receipts: string[] = [];
  alice.on('receipt', (r) => receipts.push(...r.ids));
  const first = await alice.sendText(names.bob, 'hello, plainly');
  await until(() => receipts.includes(first.id), 'the receipt of the first message');
  await bob.idle();
  return { alice, bob, bobVault, names, problems, factories };
}

let shared: ServerProcess;
beforeAll(async () => {
  shared = await startServer();
});

for (const transport of ['websocket', 'webtransport'] as const) {
  describe(`sealed sends over ${transport}`, () => {
    it('leave on a connection that never authenticated; the authenticated ones carry none', async () => {
      const server = shared;
      const sealedSends = (connection: string) =>
        metric(server, `pulse_sealed_sends_total{transport="${transport}",connection="${connection}"}`);
      const [anonymousBefore, authenticatedBefore] = [
        await sealedSends('anonymous'),
        await sealedSends('authenticated'),
      ];
      const wires: Wire[] = [];
      const { alice, bob, names, problems } = await contacts(server, transport, wires);
      const bobReceived: string[] = [];
      const aliceReceived: string[] = [];
      bob.on('message', (m) => bobReceived.push(m.text));
      alice.on('message', (m) => aliceReceived.push(m.text));

      await alice.sendText(names.bob, 'sealed from alice');
      await until(() => bobReceived.includes('sealed from alice'), 'the sealed message');
      await bob.sendText(names.alice, 'sealed from bob');
      await until(() => aliceReceived.includes('sealed from bob'), 'the sealed answer');
      await alice.idle();
      await bob.idle();

      const sealedWires = wires.filter((wire) => has(wire, 'sealed_send'));
      expect(sealedWires.length).toBeGreaterThan(0);
      for (const wire of sealedWires) {
        expect(saidAnonymousHello(wire)).toBe(true);
        expect(authenticates(wire)).toBe(false);
        // Nothing but the greeting, sealed sends and liveness.
        expect(wire.every((frame) => ['hello', 'sealed_send', 'ping', 'pong', 'close'].includes(frame.type))).toBe(
          true,
        );
      }
      for (const wire of wires.filter(authenticates)) expect(has(wire, 'sealed_send')).toBe(false);
      const sent = sealedWires.flat().filter((frame) => frame.type === 'sealed_send').length;
      // The server saw them all on anonymous connections of this transport, none on an authenticated one.
      expect((await sealedSends('anonymous')) - anonymousBefore).toBe(sent);
      expect((await sealedSends('authenticated')) - authenticatedBefore).toBe(0);

      // Idle for anonymousIdleMs, the anonymous connections close; the next sealed send opens a new one.
      await untilMetric(server, `pulse_connections_anonymous{transport="${transport}"}`, (open) => open === 0);
      const anonymousWires = wires.filter(saidAnonymousHello).length;
      await alice.sendText(names.bob, 'after a pause');
      await until(() => bobReceived.includes('after a pause'), 'the message after the pause');
      expect(wires.filter(saidAnonymousHello).length).toBeGreaterThan(anonymousWires);
      expect(problems).toEqual([]);
    });
  });
}

describe('an anonymous connection the server refuses', () => {
  it('sends sealed over the authenticated connection instead, never plain', async () => {
    const server = await startServer({ limits: { maxAnonymous: 1 } });
    // Someone else holds the server's one anonymous connection.
    const holder = await FrameClient.open(dialWebSocket(server.websocketUrl));
    const welcome = holder.next('welcome');
    holder.send({ type: 'hello', versions: [2], client: 'holder', anonymous: true });
    expect(await welcome).toMatchObject({ anonymous: true });

    const wires: Wire[] = [];
    const { alice, bob, bobVault, names, problems } = await contacts(server, 'websocket', wires);
    await bob.close();
    const refusals = () => metric(server, 'pulse_limit_violations_total{transport="websocket",limit="max_anonymous"}');
    const fallbacks = () =>
      metric(server, 'pulse_sealed_sends_total{transport="websocket",connection="authenticated"}');
    // Bob's receipt of the first contact was already sealed, and went this way too.
    const [refusedBefore, fallbacksBefore] = [await refusals(), await fallbacks()];
    const second = await alice.sendText(names.bob, 'sealed, the other way');
    expect(second.status).toBe('sent');

    // Refused (max_anonymous), then sealed on alice's authenticated connection: no sender stored, no plain send.
    expect((await refusals()) - refusedBefore).toBe(1);
    expect((await fallbacks()) - fallbacksBefore).toBe(1);
    expect(await metric(server, 'pulse_sealed_sends_total{transport="websocket",connection="anonymous"}')).toBe(0);
    const db = new Database(join(server.dataDir, 'pulse.db'), { readonly: true, fileMustExist: true });
    const rows = db.prepare('SELECT sender FROM envelopes WHERE account = ?').all(names.bob) as { sender: null }[];
    db.close();
    expect(rows).toEqual([{ sender: null }]);
    const plainToBob = wires.flat().filter((frame) => frame.type === 'send' && frame.to === names.bob);
    expect(plainToBob).toHaveLength(1); // the first contact only

    const { client: bobAgain } = await memoryClient(server.baseUrl, { vault: bobVault });
    clients.push(bobAgain);
    const received: string[] = [];
    bobAgain.on('message', (m) => received.push(m.text));
    await bobAgain.connect();
    await bobAgain.sync();
    await until(() => received.includes('sealed, the other way'), 'the sealed message');
    expect(problems).toEqual([]);
    holder.transport.close();
  });
});
