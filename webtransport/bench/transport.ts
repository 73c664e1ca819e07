/**
 * `npm run bench:transport`: WebTransport (Pulse's HTTP/3 stack on quiche) against
 * a `ws` WebSocket server doing the same work, in one process on loopback:
 *   1. echo round trip over one stream (p50, p99),
 *   2. pipelined messages per second over one stream,
 *   3. WebTransport datagrams per second (echoed).
 * Goals (issue 15): WebTransport p50 ≤ 1.1× the bare-quiche floor (on loopback quiche over
 * node:dgram is itself slower than a WebSocket echo; what Pulse owns is what its HTTP/3 and
 * WebTransport layers add above it); stream messages/s ≥ 1.0× WebSocket's.
 * Every echo is open at once and measured in alternating blocks (latency: BENCH_BLOCKS blocks
 * of round trips each, in turn; throughput: BENCH_PIPELINE_ROUNDS rounds each, in turn), so
 * a neighbour's load on this shared machine falls on all of them alike.
 * `npm run bench` runs this as its transport row (measureTransport).
 */

import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import {
  connectWebTransport,
  listenWebTransport,
  loadOrCreateDevCertificate,
  type ServerWebTransportSession,
} from '../src/node/index.ts';
import { createQuicheConfig, quiche } from '../src/node/quiche-config.ts';
import { webTransportLimits } from '../src/webtransport/limits.ts';

const MESSAGE_BYTES = 64;
let ROUND_TRIPS = Number(process.env.BENCH_ROUND_TRIPS ?? 5000);
let PIPELINED = Number(process.env.BENCH_MESSAGES ?? 50_000);
let DATAGRAMS = Number(process.env.BENCH_DATAGRAMS ?? 20_000);
const WARMUP = 500;
/** Latency blocks per echo, taken in turn: ROUND_TRIPS / BLOCKS round trips each. */
const BLOCKS = Number(process.env.BENCH_BLOCKS ?? 10);
/** Pipelined rounds per transport, in turn; the median counts. */
const PIPELINE_ROUNDS = Number(process.env.BENCH_PIPELINE_ROUNDS ?? 3);

/** Sends one message and resolves when its echo is back. */
interface RoundTripper {
  roundTrip(message: Uint8Array): Promise<void>;
}

interface EchoClient extends RoundTripper {
  /** Sends `count` messages back to back and resolves when all echoes are back. */
  pipeline(message: Uint8Array, count: number): Promise<void>;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

const median = (values: number[]): number =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

/**
 * Round-trip latencies of every echo, measured in BLOCKS alternating blocks
 * (the order rotates each block) after a warm-up of each; sorted, in ms.
 */
async function alternatingLatencies(echoes: RoundTripper[]): Promise<number[][]> {
  const message = new Uint8Array(MESSAGE_BYTES).fill(7);
  for (const echo of echoes) for (let i = 0; i < WARMUP; i++) await echo.roundTrip(message);
  const latencies = echoes.map((): number[] => []);
  const perBlock = Math.max(1, Math.ceil(ROUND_TRIPS / BLOCKS));
  for (let block = 0; block < BLOCKS; block++) {
    for (let k = 0; k < echoes.length; k++) {
      const index = (block + k) % echoes.length;
      const echo = echoes[index] as RoundTripper;
      const samples = latencies[index] as number[];
      for (let i = 0; i < perBlock; i++) {
        const start = performance.now();
        await echo.roundTrip(message);
        samples.push(performance.now() - start);
      }
    }
  }
  return latencies.map((samples) => samples.sort((a, b) => a - b));
}

/** Pipelined messages per second of each client, PIPELINE_ROUNDS alternating rounds each; the medians. */
async function alternatingRates(clients: EchoClient[]): Promise<number[]> {
  const message = new Uint8Array(MESSAGE_BYTES).fill(7);
  for (const client of clients) await client.pipeline(message, WARMUP);
  const rates = clients.map((): number[] => []);
  for (let round = 0; round < PIPELINE_ROUNDS; round++) {
    for (let k = 0; k < clients.length; k++) {
      const index = (round + k) % clients.length;
      const start = performance.now();
      await (clients[index] as EchoClient).pipeline(message, PIPELINED);
      (rates[index] as number[]).push(PIPELINED / ((performance.now() - start) / 1000));
    }
  }
  return rates.map(median);
}

/** Counts echoed bytes and wakes whoever waits for a total. */
class ByteCounter {
  received = 0;
  #waiter: { target: number; resolve(): void } | undefined;

  add(count: number): void {
    this.received += count;
    if (this.#waiter && this.received >= this.#waiter.target) {
      const { resolve } = this.#waiter;
      this.#waiter = undefined;
      resolve();
    }
  }

  waitFor(target: number): Promise<void> {
    if (this.received >= target) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiter = { target, resolve };
    });
  }
}

async function webSocketClient(): Promise<{ client: EchoClient; stop(): Promise<void> }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  server.on('connection', (socket) =>
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary })),
  );
  const port = (server.address() as AddressInfo).port;
  const socket = new WebSocket(`ws://127.0.0.1:${port}`);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  const counter = new ByteCounter();
  socket.on('message', (data: Buffer) => counter.add(data.length));
  const client: EchoClient = {
    async roundTrip(message) {
      const target = counter.received + message.length;
      socket.send(message);
      await counter.waitFor(target);
    },
    async pipeline(message, count) {
      const target = counter.received + message.length * count;
      for (let i = 0; i < count; i++) socket.send(message);
      await counter.waitFor(target);
    },
  };
  return {
    client,
    stop: async () => {
      socket.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Echoes a stream chunk by chunk, as the ws server echoes message by message. */
async function echoStream(stream: { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> }) {
  const reader = stream.readable.getReader();
  const writer = stream.writable.getWriter();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return writer.close();
    await writer.ready;
    writer.write(value).catch(() => {});
  }
}

function echoSession(session: ServerWebTransportSession): void {
  const ignore = () => {};
  (async () => {
    for await (const stream of session.incomingBidirectionalStreams) echoStream(stream).catch(ignore);
  })().catch(ignore);
  (async () => {
    const writer = session.datagrams.writable.getWriter();
    for await (const datagram of session.datagrams.readable) writer.write(datagram).catch(ignore);
  })().catch(ignore);
}

async function webTransportClient() {
  const dataDir = await mkdtemp(join(tmpdir(), 'pulse-bench-'));
  const certificate = await loadOrCreateDevCertificate(dataDir);
  const server = await listenWebTransport({
    host: '127.0.0.1',
    port: 0,
    certificate,
    paths: ['/bench'],
    onSession: (session) => {
      echoSession(session);
      return undefined;
    },
  });
  const transport = connectWebTransport(`https://127.0.0.1:${server.port}/bench`, {
    serverCertificateHashes: [{ algorithm: 'sha-256', value: certificate.sha256 }],
  });
  await transport.ready;
  const stream = await transport.createBidirectionalStream();
  const writer = stream.writable.getWriter();
  const counter = new ByteCounter();
  void (async () => {
    for await (const chunk of stream.readable) counter.add(chunk.length);
  })().catch(() => {});
  const client: EchoClient = {
    async roundTrip(message) {
      const target = counter.received + message.length;
      await writer.write(message);
      await counter.waitFor(target);
    },
    async pipeline(message, count) {
      const target = counter.received + message.length * count;
      for (let i = 0; i < count; i++) {
        await writer.ready;
        writer.write(message).catch(() => {});
      }
      await counter.waitFor(target);
    },
  };
  const datagrams = async (count: number): Promise<{ perSecond: number; delivered: number }> => {
    const datagramWriter = transport.datagrams.writable.getWriter();
    let echoed = 0;
    const reading = (async () => {
      const reader = transport.datagrams.readable.getReader();
      for (;;) {
        const { done } = await reader.read();
        if (done) return;
        echoed++;
      }
    })().catch(() => {});
    const message = new Uint8Array(MESSAGE_BYTES).fill(9);
    const start = performance.now();
    for (let i = 0; i < count; i++) {
      await datagramWriter.ready;
      await datagramWriter.write(message);
      // Yield now and then so the event loop can move packets (datagrams have no flow control).
      if (i % 64 === 63) await new Promise((resolve) => setImmediate(resolve));
    }
    // Let the last echoes arrive.
    let previous = -1;
    while (echoed !== previous) {
      previous = echoed;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const seconds = (performance.now() - start) / 1000;
    void reading;
    return { perSecond: echoed / seconds, delivered: echoed / count };
  };
  return {
    client,
    datagrams,
    stop: async () => {
      transport.close();
      await transport.closed.catch(() => {});
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The floor under any HTTP/3 stack on this binding: two bare quiche connections
 * over node:dgram in this process, echoing one 64-byte stream message at a time
 * (no HTTP/3, no WHATWG streams). Printed so the WebTransport figure can be read
 * against what QUIC itself costs here.
 */
async function openQuicheFloor(certificate: {
  certPem: string;
  keyPem: string;
}): Promise<RoundTripper & { stop(): void }> {
  const limits = webTransportLimits();
  // Sends to an IP literal without dns.lookup's next-tick hop, as the WebTransport server's socket does.
  const serverSocket = createSocket({
    type: 'udp4',
    lookup: (address, _options, callback) => callback(null, address, 4),
  });
  const clientSocket = createSocket('udp4');
  await new Promise<void>((resolve) => serverSocket.bind(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => clientSocket.bind(0, '127.0.0.1', resolve));
  // Connected, like the WebTransport client's socket: no address lookup per packet.
  await new Promise<void>((resolve) => clientSocket.connect(serverSocket.address().port, '127.0.0.1', resolve));
  const serverAddress = { host: '127.0.0.1', port: serverSocket.address().port };
  const clientAddress = { host: '127.0.0.1', port: clientSocket.address().port };
  const client = quiche.Connection.connect(
    null,
    new Uint8Array(randomBytes(20)),
    clientAddress,
    serverAddress,
    createQuicheConfig('client', limits),
  );
  const serverConfig = createQuicheConfig('server', limits, certificate);
  let server: typeof client | undefined;
  let running = true;
  const flush = (connection: typeof client, socket: typeof clientSocket, to: typeof clientAddress) => {
    while (running) {
      const packet = Buffer.allocUnsafe(1350);
      const result = connection.send(packet);
      if (result === null) return;
      if (socket === clientSocket) socket.send(packet.subarray(0, result[0]));
      else socket.send(packet.subarray(0, result[0]), to.port, to.host);
    }
  };
  const buffer = new Uint8Array(65536);
  let onEcho: (() => void) | undefined;
  serverSocket.on('message', (packet) => {
    server ??= quiche.Connection.accept(
      new Uint8Array(randomBytes(20)),
      null,
      serverAddress,
      clientAddress,
      serverConfig,
    );
    server.recv(packet, { from: clientAddress, to: serverAddress });
    if (server.isEstablished() && server.streamReadable(0)) {
      const read = server.streamRecv(0, buffer);
      if (read !== null) server.streamSend(0, buffer.subarray(0, read[0]), false);
    }
    // The echo (and the ACK with it) leaves at once, in the same callback.
    flush(server, serverSocket, clientAddress);
  });
  clientSocket.on('message', (packet) => {
    client.recv(packet, { from: serverAddress, to: clientAddress });
    if (client.isEstablished() && client.streamReadable(0) && client.streamRecv(0, buffer) !== null) onEcho?.();
    // The ACK rides on the next message when there is one (sent before this runs); alone otherwise.
    setImmediate(() => flush(client, clientSocket, serverAddress));
  });
  flush(client, clientSocket, serverAddress);
  while (!client.isEstablished()) await new Promise((resolve) => setTimeout(resolve, 5));
  return {
    roundTrip: (message) =>
      new Promise<void>((resolve) => {
        onEcho = resolve;
        client.streamSend(0, message, false);
        flush(client, clientSocket, serverAddress);
      }),
    stop() {
      running = false;
      serverSocket.close();
      clientSocket.close();
    },
  };
}

/**
 * Under the floor: the same echo with no QUIC at all, 64-byte UDP datagrams
 * between two connected node:dgram sockets in this process. What is left of
 * the floor above this is quiche's own per-packet work (crypto, ACKs, frames).
 */
async function openUdpEcho(): Promise<RoundTripper & { stop(): void }> {
  const a = createSocket('udp4');
  const b = createSocket('udp4');
  await new Promise<void>((resolve) => a.bind(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => b.bind(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => a.connect(b.address().port, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => b.connect(a.address().port, '127.0.0.1', resolve));
  b.on('message', (data) => b.send(data));
  let onEcho: (() => void) | undefined;
  a.on('message', () => onEcho?.());
  return {
    roundTrip: (message) =>
      new Promise<void>((resolve) => {
        onEcho = resolve;
        a.send(message);
      }),
    stop() {
      a.close();
      b.close();
    },
  };
}

const fmt = (value: number, digits = 3) => value.toFixed(digits);

/** Sizes of a run; the defaults come from BENCH_ROUND_TRIPS, BENCH_MESSAGES and BENCH_DATAGRAMS. */
export interface TransportBenchOptions {
  readonly roundTrips?: number;
  readonly pipelined?: number;
  readonly datagrams?: number;
}

export interface EchoResult {
  readonly p50: number;
  readonly p99: number;
  readonly perSecond: number;
}

export interface TransportBenchResult {
  readonly webSocket: EchoResult;
  readonly webTransport: EchoResult;
  readonly datagrams: { readonly perSecond: number; readonly delivered: number };
  /** Bare quiche over node:dgram, no HTTP/3: the floor under WebTransport's p50 (ms). */
  readonly quicheFloorP50: number;
  /** Plain UDP over node:dgram: under the floor (ms). */
  readonly udpP50: number;
}

/**
 * Every measurement of this file, in this process: what `npm run bench` calls.
 * All four echoes are open at once; latencies are taken in alternating blocks,
 * pipelined rates in alternating rounds, then the datagram echo.
 */
export async function measureTransport(options: TransportBenchOptions = {}): Promise<TransportBenchResult> {
  ROUND_TRIPS = options.roundTrips ?? ROUND_TRIPS;
  PIPELINED = options.pipelined ?? PIPELINED;
  DATAGRAMS = options.datagrams ?? DATAGRAMS;
  const floorDir = await mkdtemp(join(tmpdir(), 'pulse-bench-'));
  const ws = await webSocketClient();
  const wt = await webTransportClient();
  const floor = await openQuicheFloor(await loadOrCreateDevCertificate(floorDir));
  const udp = await openUdpEcho();
  try {
    const [wsLatencies, wtLatencies, floorLatencies, udpLatencies] = (await alternatingLatencies([
      ws.client,
      wt.client,
      floor,
      udp,
    ])) as [number[], number[], number[], number[]];
    const [wsRate, wtRate] = (await alternatingRates([ws.client, wt.client])) as [number, number];
    const datagrams = await wt.datagrams(DATAGRAMS);
    const echo = (latencies: number[], perSecond: number): EchoResult => ({
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      perSecond,
    });
    return {
      webSocket: echo(wsLatencies, wsRate),
      webTransport: echo(wtLatencies, wtRate),
      datagrams,
      quicheFloorP50: percentile(floorLatencies, 50),
      udpP50: percentile(udpLatencies, 50),
    };
  } finally {
    floor.stop();
    udp.stop();
    await wt.stop();
    await ws.stop();
    await rm(floorDir, { recursive: true, force: true });
  }
}

function main(result: TransportBenchResult): void {
  const { webSocket: wsResult, webTransport: wtResult, datagrams: datagramResult } = result;
  const floorP50 = result.quicheFloorP50;
  const udpP50 = result.udpP50;

  const p50Ratio = wtResult.p50 / floorP50;
  const rateRatio = wtResult.perSecond / wsResult.perSecond;
  console.log(
    `transport benchmark: ${MESSAGE_BYTES}-byte messages, ${ROUND_TRIPS} round trips each in ${BLOCKS} alternating blocks, ` +
      `${PIPELINED} pipelined × ${PIPELINE_ROUNDS} alternating rounds (median)`,
  );
  console.log(`                      p50 ms    p99 ms    stream msgs/s`);
  console.log(
    `WebSocket (ws)        ${fmt(wsResult.p50).padEnd(10)}${fmt(wsResult.p99).padEnd(10)}${Math.round(wsResult.perSecond)}`,
  );
  console.log(
    `WebTransport (H3)     ${fmt(wtResult.p50).padEnd(10)}${fmt(wtResult.p99).padEnd(10)}${Math.round(wtResult.perSecond)}`,
  );
  console.log(
    `WebTransport datagrams echoed/s: ${Math.round(datagramResult.perSecond)} (${fmt(datagramResult.delivered * 100, 1)}% delivered)`,
  );
  console.log(`floor: bare quiche echo over node:dgram (no HTTP/3, no streams API) p50 ${fmt(floorP50)} ms`);
  console.log(`under the floor: UDP echo over connected node:dgram sockets (no QUIC) p50 ${fmt(udpP50)} ms`);
  console.log(`ratio p50 WT/WS: ${fmt(wtResult.p50 / wsResult.p50, 2)}`);
  console.log(`ratio p50 WT/quiche floor: ${fmt(p50Ratio, 2)} (goal ≤ 1.1) ${p50Ratio <= 1.1 ? 'MET' : 'NOT MET'}`);
  console.log(`ratio msgs/s WT/WS: ${fmt(rateRatio, 2)} (goal ≥ 1.0) ${rateRatio >= 1 ? 'MET' : 'NOT MET'}`);
}

// `npm run bench:transport` runs this file; `npm run bench` imports it.
if (process.argv[1] === fileURLToPath(import.meta.url)) main(await measureTransport());
