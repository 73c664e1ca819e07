/**
 * `npm run bench:server`: channel fan-out and durable envelope throughput of the
 * real server (WebSocket, in this process), each as a ratio against a baseline
 * measured in the same process on the same machine:
 *
 * - fan-out: 1 channel × SUBSCRIBERS, PUBLISHES publications of 64 B, against a
 *   bare `ws` server that sends the same bytes to every socket (the floor any
 *   WebSocket pub/sub pays);
 * - envelopes: SENDERS connections pipelining `send` to one offline device, acked
 *   only after the SQLite commit, against bare better-sqlite3 doing one
 *   synchronous=FULL transaction per envelope.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { WebSocket, WebSocketServer } from 'ws';
import { register } from '../test/helpers/client.ts';
import { startTestServer } from '../test/helpers/server.ts';
import { websocketDial } from '../test/helpers/websocket-dial.ts';

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
  const server = await startTestServer({
    limits: { rate: 100_000, rateBurst: 100_000, maxConnectionsPerIp: 100_000, authAttempts: 100_000 },
  });
  const dial = websocketDial(server.httpPort);
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
    device.client.link.onFrame = () => {
      if (++received === total) done();
    };
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
  const server = await startTestServer({
    limits: { rate: 100_000, rateBurst: 100_000, queuePerDevice: 1_000_000, authAttempts: 100_000 },
  });
  const dial = websocketDial(server.httpPort);
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

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const baseFan = await baselineFanout();
const fan = await pulseFanout();
console.log(`fan-out, 1 channel x ${SUBSCRIBERS} subscribers, ${PUBLISHES} publications of 64 B:`);
console.log(`  bare ws baseline   ${fmt(baseFan)} msgs/s`);
console.log(`  pulse              ${fmt(fan)} msgs/s   (ratio ${(fan / baseFan).toFixed(2)})`);
const baseCommit = baselineCommits();
const env = await pulseEnvelopes();
console.log(`durable envelopes, ${SENDERS} senders x 16 outstanding, 256 B, acked after commit:`);
console.log(`  bare SQLite (1 tx/envelope, synchronous=FULL)  ${fmt(baseCommit)} envelopes/s`);
console.log(
  `  pulse send -> sent                             ${fmt(env)} envelopes/s   (ratio ${(env / baseCommit).toFixed(2)})`,
);
process.exit(0);
