/**
 * Worker: soak clients on one transport (reliability/suites/soak.ts). Opens
 * connections, 8 at a time (each a new registered account), until `count`
 * are open, the deadline of the ramp passes, or opening gets slow (median of
 * the last 20 over 3 s) or fails (the machine holds no more); then every connection sends a small envelope to
 * another of them every `messageIntervalMs` and acknowledges what it receives,
 * until the end. Prints what it held and every error it saw.
 */
import { randomInt } from 'node:crypto';
import type { Frame } from '@pulse/proto';
import { dialWebSocket, dialWebTransport } from '@pulse/testing';
import { type Device, type OpenTransport, register, TEST_CODEC } from '@pulse/testing/protocol';
import { answerPing } from '../lib/heartbeat.ts';
import { median, percentile } from '../lib/stats.ts';
import { finishWorker, workerArgs } from '../lib/worker.ts';
import { sleep, within } from './hostile/pacing.ts';

export interface SoakClientArgs {
  readonly transport: 'websocket' | 'webtransport';
  readonly url: string;
  readonly certificateSha256Hex?: string;
  readonly count: number;
  readonly rampMs: number;
  readonly steadyMs: number;
  readonly messageIntervalMs: number;
}

export interface SoakClientFigures {
  transport: string;
  opened: number;
  openFailures: number;
  /** Why the ramp stopped: `count`, `time`, `slow` or `failed`. */
  rampStop: string;
  slowestOpenMs: number;
  openAtEnd: number;
  sent: number;
  delivered: number;
  undelivered: number;
  errors: Record<string, number>;
  closes: string[];
  p50: number;
  p99: number;
}

/** Opening connections (handshake + register) slower than this, as the median of the last ones, means the machine is full. */
const SLOW_OPEN_MS = 3_000;
/** How many of the last opens that median looks at (one slow open, the first one loading the QUIC binding say, stops nothing). */
const SLOW_WINDOW = 20;
/** Connections being opened at once (handshake and registration overlap, as many users' would). */
const OPENING_LANES = 8;
/** An open (QUIC or TCP handshake, then registration) that takes longer failed: a handshake can stall with no error. */
const OPEN_TIMEOUT_MS = 20_000;
const DELIVERY_TIMEOUT_MS = 15_000;

const args = workerArgs<SoakClientArgs>();
const open: OpenTransport =
  args.transport === 'websocket'
    ? dialWebSocket(args.url)
    : dialWebTransport(args.url, new Uint8Array(Buffer.from(args.certificateSha256Hex ?? '', 'hex')));
const figures: SoakClientFigures = {
  transport: args.transport,
  opened: 0,
  openFailures: 0,
  rampStop: 'count',
  slowestOpenMs: 0,
  openAtEnd: 0,
  sent: 0,
  delivered: 0,
  undelivered: 0,
  errors: {},
  closes: [],
  p50: Number.NaN,
  p99: Number.NaN,
};
const devices: Device[] = [];
const pending = new Map<string, number>();
const latencies: number[] = [];
const TAG = new TextDecoder();

function received(device: Device, frame: Frame): void {
  if (answerPing(device.client, frame)) return;
  if (frame.type === 'error') figures.errors[frame.code] = (figures.errors[frame.code] ?? 0) + 1;
  if (frame.type === 'close') figures.closes.push(`${frame.code}: ${frame.reason}`);
  if (frame.type !== 'deliver') return;
  device.client.send({ type: 'deliver_ack', envelopeIds: [frame.envelopeId] });
  const tag = TAG.decode(frame.payload);
  const sentAt = pending.get(tag);
  if (sentAt === undefined) return;
  pending.delete(tag);
  figures.delivered += 1;
  latencies.push(performance.now() - sentAt);
}

const rampEnd = performance.now() + args.rampMs;
const recentOpens: number[] = [];
let opening = 0;
let stopped = false;
const stop = (why: string) => {
  if (stopped) return;
  stopped = true;
  figures.rampStop = why;
};
/** One of OPENING_LANES loops, each opening one connection at a time. */
const lane = async () => {
  while (!stopped && devices.length + opening < args.count) {
    if (performance.now() > rampEnd) return stop('time');
    const started = performance.now();
    opening += 1;
    try {
      const device = await within(register(open), OPEN_TIMEOUT_MS);
      device.client.takeUndecoded((bytes) => received(device, TEST_CODEC.decode(bytes)));
      devices.push(device);
      figures.opened += 1;
    } catch {
      figures.openFailures += 1;
      return stop('failed');
    } finally {
      opening -= 1;
    }
    const took = performance.now() - started;
    figures.slowestOpenMs = Math.max(figures.slowestOpenMs, took);
    recentOpens.push(took);
    if (recentOpens.length > SLOW_WINDOW) recentOpens.shift();
    if (recentOpens.length === SLOW_WINDOW && median(recentOpens) > SLOW_OPEN_MS) return stop('slow');
  }
};
await Promise.all(Array.from({ length: OPENING_LANES }, lane));
console.log(`${args.transport}: ${devices.length} connections open (${figures.rampStop})`);
// Every worker starts its steady phase at the end of the ramp time, so the suite knows when (its memory windows).
if (performance.now() < rampEnd) await sleep(rampEnd - performance.now());
const steadyEnd = performance.now() + args.steadyMs;
let sequence = 0;
if (devices.length > 1) {
  const perTick = Math.max(1, Math.round((devices.length * 100) / args.messageIntervalMs));
  while (performance.now() < steadyEnd) {
    for (let i = 0; i < perTick; i++) {
      const from = devices[randomInt(devices.length)]!;
      let to = devices[randomInt(devices.length)]!;
      if (to === from) to = devices[(devices.indexOf(from) + 1) % devices.length]!;
      if (from.client.isClosed) continue;
      const tag = `${process.pid}/${sequence++}`;
      pending.set(tag, performance.now());
      figures.sent += 1;
      from.client.send({
        type: 'send',
        id: from.client.nextId(),
        to: to.account,
        envelopes: [{ deviceId: to.deviceId, payload: new TextEncoder().encode(tag) }],
      });
    }
    await sleep(100);
  }
}
await sleep(Math.min(DELIVERY_TIMEOUT_MS, 3_000));
const late = performance.now() + DELIVERY_TIMEOUT_MS;
while (pending.size > 0 && performance.now() < late) await sleep(200);
figures.undelivered = pending.size;
figures.openAtEnd = devices.filter((d) => !d.client.isClosed).length;
for (const d of devices) {
  if (d.client.isClosed) figures.closes.push(d.client.closeReasons[0] ?? 'closed');
}
figures.closes = figures.closes.slice(0, 20);
figures.p50 = percentile(latencies, 50);
figures.p99 = percentile(latencies, 99);
for (const d of devices) d.client.close();
await finishWorker(figures);
