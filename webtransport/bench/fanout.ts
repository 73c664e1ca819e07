/**
 * `node --import tsx webtransport/bench/fanout.ts`: fan-out over WebTransport
 * alone, the shape of `npm run bench`'s fan-out row without Pulse above it.
 * A server pushes every publication to N sessions (one bidirectional stream
 * each, opened by the client); the N client sessions live in ONE other process
 * (as the bench's subscriber generators do) and count what arrives.
 * Publications go out in batches of 20 per turn of the event loop, each
 * session's batch in one write, as Pulse's WebTransport edge writes a task's
 * frames together (server/src/edge/transport/webtransport.ts).
 *
 * Env: BENCH_SESSIONS (300), BENCH_PUBLICATIONS (200), BENCH_BYTES (1024),
 * BENCH_ROUNDS (3), BENCH_TIMEOUT_MS (60000: a round that ends early leaves bytes to the next), BENCH_SOCKET_BUFFER_BYTES (both
 * ends' kernel buffers; default udp-endpoint.ts's).
 * Prints per round: delivered msgs/s, how evenly the sessions were served,
 * both processes' CPU time, and how long the server's event loop was held up.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  connectWebTransport,
  listenWebTransport,
  loadOrCreateDevCertificate,
  type ServerWebTransportSession,
} from '../src/node/index.ts';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 300);
const PUBLICATIONS = Number(process.env.BENCH_PUBLICATIONS ?? 200);
const BYTES = Number(process.env.BENCH_BYTES ?? 1024);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 60_000);
const BATCH = 20;
/** Client sessions opened at once while setting up. */
const SETUP_CONCURRENCY = 16;
const socketBuffers =
  process.env.BENCH_SOCKET_BUFFER_BYTES === undefined
    ? undefined
    : {
        receiveBytes: Number(process.env.BENCH_SOCKET_BUFFER_BYTES),
        sendBytes: Number(process.env.BENCH_SOCKET_BUFFER_BYTES),
      };

type ToChild = { type: 'open'; url: string; hash: number[]; sessions: number } | { type: 'arm'; bytes: number };
interface Received {
  readonly type: 'received';
  readonly bytes: number;
  readonly ms: number;
  readonly cpuMs: number;
  /** Sessions that got all their bytes, and the least and median bytes a session got. */
  readonly complete: number;
  readonly least: number;
  readonly median: number;
}
type ToParent = { type: 'opened' } | Received;

const cpuMsSince = (start: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
};

/** The subscribers' process: opens the sessions, then reports when each round's bytes have all arrived. */
function subscribers(): void {
  const perSession: number[] = [];
  let received = 0;
  let report: (() => void) | undefined;
  const send = (message: ToParent) => process.send?.(message);
  process.on('disconnect', () => process.exit(0));
  process.on('message', async (message: ToChild) => {
    if (message.type === 'open') {
      let next = 0;
      const open = async () => {
        while (next < message.sessions) {
          next++;
          const session = connectWebTransport(message.url, {
            serverCertificateHashes: [{ algorithm: 'sha-256', value: new Uint8Array(message.hash) }],
            ...(socketBuffers === undefined ? {} : { socketBuffers }),
          });
          await session.ready;
          const stream = await session.createBidirectionalStream();
          // One byte, as a subscribe: the server takes the stream when it arrives.
          await stream.writable.getWriter().write(new Uint8Array([1]));
          const index = perSession.push(0) - 1;
          void (async () => {
            for await (const chunk of stream.readable) {
              perSession[index] = (perSession[index] as number) + chunk.byteLength;
              received += chunk.byteLength;
              report?.();
            }
          })().catch(() => {});
        }
      };
      await Promise.all(Array.from({ length: SETUP_CONCURRENCY }, open));
      send({ type: 'opened' });
      return;
    }
    received = 0;
    perSession.fill(0);
    const started = performance.now();
    const cpu = process.cpuUsage();
    const finish = () => {
      report = undefined;
      clearTimeout(timer);
      const each = message.bytes / perSession.length;
      const sorted = [...perSession].sort((a, b) => a - b);
      send({
        type: 'received',
        bytes: received,
        ms: performance.now() - started,
        cpuMs: cpuMsSince(cpu),
        complete: perSession.filter((bytes) => bytes >= each).length,
        least: sorted[0] ?? 0,
        median: sorted[Math.floor(sorted.length / 2)] ?? 0,
      });
    };
    const timer = setTimeout(finish, TIMEOUT_MS);
    report = () => {
      if (received >= message.bytes) finish();
    };
  });
}

function ask(child: ChildProcess, message: ToChild, answer: ToParent['type']): Promise<ToParent> {
  return new Promise((resolve) => {
    const onMessage = (reply: ToParent) => {
      if (reply.type !== answer) return;
      child.off('message', onMessage);
      resolve(reply);
    };
    child.on('message', onMessage);
    child.send(message);
  });
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'pulse-fanout-'));
  const certificate = await loadOrCreateDevCertificate(dataDir);
  const writers: WritableStreamDefaultWriter<Uint8Array>[] = [];
  const server = await listenWebTransport({
    host: '127.0.0.1',
    port: 0,
    certificate,
    paths: ['/fanout'],
    ...(socketBuffers === undefined ? {} : { socketBuffers }),
    limits: { maxConnections: SESSIONS + 10 },
    // Every session comes from 127.0.0.1: the per-source handshake cap would only slow the setup.
    admission: { maxHandshakesPerSource: SESSIONS, retryAbove: SESSIONS },
    onSession(session: ServerWebTransportSession) {
      void (async () => {
        for await (const stream of session.incomingBidirectionalStreams) {
          writers.push(stream.writable.getWriter());
          stream.readable.pipeTo(new WritableStream()).catch(() => {});
        }
      })().catch(() => {});
      return undefined;
    },
  });
  const child = fork(fileURLToPath(import.meta.url), ['--subscribers'], { execArgv: ['--import', 'tsx'] });
  try {
    const url = `https://127.0.0.1:${server.port}/fanout`;
    await ask(child, { type: 'open', url, hash: [...certificate.sha256], sessions: SESSIONS }, 'opened');
    while (writers.length < SESSIONS) await new Promise((resolve) => setTimeout(resolve, 10));
    console.log(`fan-out over WebTransport: ${SESSIONS} sessions in one process, ${PUBLICATIONS} × ${BYTES} B`);
    const message = new Uint8Array(BYTES).fill(0x5a);
    for (let round = 1; round <= ROUNDS; round++) {
      const arrived = ask(child, { type: 'arm', bytes: SESSIONS * PUBLICATIONS * BYTES }, 'received');
      await new Promise((resolve) => setTimeout(resolve, 50));
      const cpu = process.cpuUsage();
      const loopDelay = monitorEventLoopDelay({ resolution: 1 });
      loopDelay.enable();
      for (let sent = 0; sent < PUBLICATIONS; sent += BATCH) {
        const count = Math.min(BATCH, PUBLICATIONS - sent);
        const batch = new Uint8Array(count * BYTES);
        for (let i = 0; i < count; i++) batch.set(message, i * BYTES);
        for (const writer of writers) writer.write(batch).catch(() => {});
        await new Promise((resolve) => setImmediate(resolve));
      }
      const result = (await arrived) as Received;
      loopDelay.disable();
      const messages = Math.floor(result.bytes / BYTES);
      console.log(
        `round ${round}: ${messages} of ${SESSIONS * PUBLICATIONS} delivered in ${Math.round(result.ms)} ms: ` +
          `${Math.round((messages / result.ms) * 1000)} msgs/s; sessions complete ${result.complete}, ` +
          `least ${Math.floor(result.least / BYTES)} and median ${Math.floor(result.median / BYTES)} of ${PUBLICATIONS}; ` +
          `CPU ms server ${Math.round(cpuMsSince(cpu))}, subscribers ${Math.round(result.cpuMs)}; ` +
          `server event-loop delay p99 ${(loopDelay.percentile(99) / 1e6).toFixed(1)} ms, max ${(loopDelay.max / 1e6).toFixed(1)} ms`,
      );
    }
  } finally {
    child.disconnect();
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--subscribers')) subscribers();
else await main();
