/**
 * `npm run bench:server`: channel fan-out and durable envelope throughput of the
 * real server (WebSocket, in this process), each as a ratio against a baseline
 * measured in the same process on the same machine:
 *
 * - fan-out: 1 channel × SUBSCRIBERS, PUBLISHES publications of 64 B, against a
 *   bare `ws` server that sends the same bytes to every socket (the floor any
 *   WebSocket pub/sub pays);
 * - latency: publish → receive at 10 subscribers, p50/p99, against a bare `ws`
 *   relay (same path: client → server → subscribers);
 * - envelopes: SENDERS connections pipelining `send` to one offline device, acked
 *   only after the SQLite commit, against bare better-sqlite3 doing one
 *   synchronous=FULL transaction per envelope.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Device, dialWebSocket, ListeningServer, register } from '@pulse/testing';
import Database from 'better-sqlite3';
import { WebSocket, WebSocketServer } from 'ws';

const SUBSCRIBERS = Number(process.env.SUBSCRIBERS ?? 200);
const PUBLISHES = Number(process.env.PUBLISHES ?? 500);
const SENDERS = Number(process.env.SENDERS ?? 8);
const ENVELOPES = Number(process.env.ENVELOPES ?? 2000);

async function rawSubscribers(url: string, count: number, onMessage: () => void): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  for (let i = 0; i < count; i++) {
    const ws = new WebSocket(url);
    ws.on('message', onMessage);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    sockets.push(ws);
  }
  return sockets;
}

async function baselineFanout(): Promise<number> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  wss.on('connection', (_ws, req) => req.socket.setNoDelay(true));
  await new Promise((r) => wss.once('listening', r));
  const port = (wss.address() as { port: number }).port;
  let received = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => {
    done = r;
  });
  const total = SUBSCRIBERS * PUBLISHES;
  const sockets = await rawSubscribers(`ws://127.0.0.1:${port}`, SUBSCRIBERS, () => {
    if (++received === total) done();
  });
  const payload = new Uint8Array(64 + 40).fill(1); // about a channel_message frame's size
  const started = performance.now();
  for (let i = 0; i < PUBLISHES; i++) {
    for (const client of wss.clients) client.send(payload);
    if (i % 20 === 0) await new Promise((r) => setImmediate(r));
  }
  await finished;
  const seconds = (performance.now() - started) / 1000;
  for (const ws of sockets) ws.terminate();
  await new Promise((r) => wss.close(r));
  return total / seconds;
}

async function pulseFanout(): Promise<number> {
  const server = await ListeningServer.start({
    limits: { rate: 100_000, rateBurst: 100_000, maxConnectionsPerIp: 100_000, authAttempts: 100_000 },
  });
  const dial = dialWebSocket(server.websocketUrl);
  const total = SUBSCRIBERS * PUBLISHES;
  let received = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => {
    done = r;
  });
  const subscribers = [];
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const device = await register(dial);
    await device.client.expect({ type: 'subscribe', id: 0, channel: 'public:bench' }, 'subscribed');
    // Count raw frames: the benchmark measures the server, not the test client's decoder.
    device.client.takeUndecoded(() => {
      if (++received === total) done();
    });
    subscribers.push(device);
  }
  const publisher = await register(dial);
  const payload = new Uint8Array(64).fill(2);
  const started = performance.now();
  for (let i = 0; i < PUBLISHES; i++) {
    publisher.client.send({ type: 'publish', id: i + 1, channel: 'public:bench', payload });
    if (i % 20 === 0) await new Promise((r) => setImmediate(r));
  }
  await finished;
  const seconds = (performance.now() - started) / 1000;
  for (const d of [...subscribers, publisher]) d.client.close();
  await server.stop();
  return total / seconds;
}

function baselineCommits(): number {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-bench-'));
  const db = new Database(join(dir, 'b.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE e (id INTEGER PRIMARY KEY AUTOINCREMENT, k TEXT, payload BLOB)');
  const insert = db.prepare('INSERT INTO e (k, payload) VALUES (?, ?)');
  const tx = db.transaction((payload: Uint8Array) => insert.run('bob', payload));
  const payload = new Uint8Array(256);
  const started = performance.now();
  for (let i = 0; i < ENVELOPES; i++) tx(payload);
  const seconds = (performance.now() - started) / 1000;
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return ENVELOPES / seconds;
}

async function pulseEnvelopes(): Promise<number> {
  const server = await ListeningServer.start({
    limits: { rate: 100_000, rateBurst: 100_000, queuePerDevice: 1_000_000, authAttempts: 100_000 },
  });
  const dial = dialWebSocket(server.websocketUrl);
  const bob = await register(dial);
  bob.client.close();
  const senders = [];
  for (let i = 0; i < SENDERS; i++) senders.push(await register(dial));
  const payload = new Uint8Array(256);
  const perSender = Math.ceil(ENVELOPES / SENDERS);
  const started = performance.now();
  await Promise.all(
    senders.map(async (sender) => {
      // 16 requests outstanding per sender.
      let next = 0;
      const worker = async () => {
        while (next < perSender) {
          next++;
          await sender.client.expect(
            { type: 'send', id: 0, to: bob.account, envelopes: [{ deviceId: 1, payload }] },
            'sent',
          );
        }
      };
      await Promise.all(Array.from({ length: 16 }, worker));
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  for (const s of senders) s.client.close();
  await server.stop();
  return (perSender * SENDERS) / seconds;
}

const LATENCY_SUBSCRIBERS = 10;
const LATENCY_MESSAGES = 1000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Publisher → server → 10 subscribers, 1 KiB, one message per ~1 ms; the first 8 bytes carry the send time. */
async function latencyRun(
  connect: () => Promise<{
    publish(bytes: Uint8Array): void;
    subscribers: ((cb: (bytes: Uint8Array) => void) => void)[];
    close(): Promise<void>;
  }>,
): Promise<{ p50: number; p99: number }> {
  const setup = await connect();
  const samples: number[] = [];
  const expected = LATENCY_SUBSCRIBERS * LATENCY_MESSAGES;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => {
    done = r;
  });
  for (const subscribe of setup.subscribers) {
    subscribe((bytes) => {
      // The stamp is in the last 8 bytes (the payload sits at the end of a Pulse frame too).
      const view = new DataView(bytes.buffer, bytes.byteOffset + bytes.byteLength - 8, 8);
      samples.push(performance.now() - view.getFloat64(0));
      if (samples.length === expected) done();
    });
  }
  for (let i = 0; i < LATENCY_MESSAGES; i++) {
    const payload = new Uint8Array(1024);
    new DataView(payload.buffer).setFloat64(1016, performance.now());
    setup.publish(payload);
    await new Promise((r) => setTimeout(r, 1));
  }
  await finished;
  await setup.close();
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

async function baselineLatency() {
  return latencyRun(async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
    await new Promise((r) => wss.once('listening', r));
    const port = (wss.address() as { port: number }).port;
    const subscriberSockets = new Set<WebSocket>();
    wss.on('connection', (ws, req) => {
      req.socket.setNoDelay(true);
      ws.on('message', (data: Buffer) => {
        for (const s of subscriberSockets) s.send(data);
      });
    });
    const open = async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}`);
      await new Promise((r) => ws.once('open', r));
      return ws;
    };
    const clients: WebSocket[] = [];
    const subscribers = [];
    for (let i = 0; i < LATENCY_SUBSCRIBERS; i++) {
      const ws = await open();
      clients.push(ws);
      subscribers.push((cb: (bytes: Uint8Array) => void) => ws.on('message', (d: Buffer) => cb(new Uint8Array(d))));
    }
    await new Promise((r) => setTimeout(r, 50));
    for (const client of wss.clients) subscriberSockets.add(client);
    const publisher = await open();
    return {
      publish: (bytes: Uint8Array) => publisher.send(bytes),
      subscribers,
      close: async () => {
        for (const ws of [...clients, publisher]) ws.terminate();
        await new Promise((r) => wss.close(r));
      },
    };
  });
}

async function pulseLatency() {
  return latencyRun(async () => {
    const server = await ListeningServer.start({
      limits: { rate: 100_000, rateBurst: 100_000, authAttempts: 100_000 },
    });
    const dial = dialWebSocket(server.websocketUrl);
    const devices: Device[] = [];
    for (let i = 0; i < LATENCY_SUBSCRIBERS; i++) {
      const device = await register(dial);
      await device.client.expect({ type: 'subscribe', id: 0, channel: 'public:latency' }, 'subscribed');
      devices.push(device);
    }
    const publisher = await register(dial);
    let id = 0;
    return {
      publish: (payload: Uint8Array) =>
        publisher.client.send({ type: 'publish', id: ++id, channel: 'public:latency', payload }),
      subscribers: devices.map((d) => (cb: (bytes: Uint8Array) => void) => {
        d.client.takeUndecoded(cb);
      }),
      close: async () => {
        for (const d of [...devices, publisher]) d.client.close();
        await server.stop();
      },
    };
  });
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
// The machine is shared: each figure is the best of ROUNDS runs, baseline and Pulse interleaved.
const ROUNDS = Number(process.env.ROUNDS ?? 3);
async function best(runs: (() => Promise<number> | number)[]): Promise<number[]> {
  const results = runs.map(() => 0);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, run] of runs.entries()) results[i] = Math.max(results[i]!, await run());
  }
  return results;
}
const [baseFan, fan] = (await best([baselineFanout, pulseFanout])) as [number, number];
console.log(`best of ${ROUNDS} interleaved runs each`);
console.log(`fan-out, 1 channel x ${SUBSCRIBERS} subscribers, ${PUBLISHES} publications of 64 B:`);
console.log(`  bare ws baseline   ${fmt(baseFan)} msgs/s`);
console.log(`  pulse              ${fmt(fan)} msgs/s   (ratio ${(fan / baseFan).toFixed(2)})`);
const [baseCommit, env] = (await best([baselineCommits, pulseEnvelopes])) as [number, number];
console.log(`durable envelopes, ${SENDERS} senders x 16 outstanding, 256 B, acked after commit:`);
console.log(`  bare SQLite (1 tx/envelope, synchronous=FULL)  ${fmt(baseCommit)} envelopes/s`);
console.log(
  `  pulse send -> sent                             ${fmt(env)} envelopes/s   (ratio ${(env / baseCommit).toFixed(2)})`,
);
const baseLat = await baselineLatency();
const lat = await pulseLatency();
console.log(
  `latency, ${LATENCY_SUBSCRIBERS} subscribers, ${LATENCY_MESSAGES} x 1 KiB at ~1 ms intervals (publish -> receive):`,
);
console.log(`  bare ws relay      p50 ${baseLat.p50.toFixed(2)} ms   p99 ${baseLat.p99.toFixed(2)} ms`);
console.log(
  `  pulse              p50 ${lat.p50.toFixed(2)} ms   p99 ${lat.p99.toFixed(2)} ms   (ratio p50 ${(lat.p50 / baseLat.p50).toFixed(2)}, p99 ${(lat.p99 / baseLat.p99).toFixed(2)})`,
);
process.exit(0);
