/**
 * Worker: one flooding client, from one IP address of its own (a loopback
 * address other than the measured clients'), in one of four ways
 * (reliability/suites/abuse.ts): frames, bytes, prekey fetches, channels.
 * Prints what the server accepted and what it refused.
 */
import { randomBytes } from 'node:crypto';
import type { Frame } from '@pulse/proto';
import { type Device, register, TEST_CODEC } from '@pulse/testing/protocol';
import { dialWebSocketFrom } from '../lib/dial-from.ts';
import { announceStarted, finishWorker, workerArgs } from '../lib/worker.ts';
import { paced, sleep } from './hostile/pacing.ts';

export type FloodKind = 'frames' | 'bytes' | 'prekeys' | 'channels' | 'heavy';

export interface FloodArgs {
  readonly kind: FloodKind;
  readonly url: string;
  readonly localAddress: string;
  readonly durationMs: number;
  /** prekeys: whose bundles to drain. */
  readonly victim?: string;
  /** bytes and channels: largest payload the server takes. */
  readonly payloadBytes: number;
  /** frames: connections flooding at once (each replaced when closed). */
  readonly lanes?: number;
  /** heavy: publications a second (the largest the server takes, at its byte rate: within every limit). */
  readonly perSecond?: number;
}

/** What the flooder saw: answers by type, errors and closes by code. */
export interface FloodFigures {
  connections: number;
  framesSent: number;
  bytesSent: number;
  answers: Record<string, number>;
  errors: Record<string, number>;
  closes: Record<string, number>;
  registerFailures: number;
  oneTimePreKeysTaken: number;
}

const args = workerArgs<FloodArgs>();
const deadline = performance.now() + args.durationMs;
const open = dialWebSocketFrom(args.url, args.localAddress);
const figures: FloodFigures = {
  connections: 0,
  framesSent: 0,
  bytesSent: 0,
  answers: {},
  errors: {},
  closes: {},
  registerFailures: 0,
  oneTimePreKeysTaken: 0,
};
const bump = (counts: Record<string, number>, key: string) => {
  counts[key] = (counts[key] ?? 0) + 1;
};

let announced = false;
/** The flood is under way (the first flooder registered): the suite measures from here. */
function announceOnce(): void {
  if (announced) return;
  announced = true;
  announceStarted();
}

/** A registered device whose every later frame is counted, not kept. */
async function flooder(): Promise<Device | undefined> {
  try {
    const device = await register(open);
    figures.connections += 1;
    device.client.takeUndecoded((bytes) => count(TEST_CODEC.decode(bytes)));
    return device;
  } catch {
    figures.registerFailures += 1;
    return undefined;
  }
}

function count(frame: Frame): void {
  if (frame.type === 'error') bump(figures.errors, frame.code);
  else if (frame.type === 'close') bump(figures.closes, frame.code);
  else bump(figures.answers, frame.type);
  if (frame.type === 'bundles')
    figures.oneTimePreKeysTaken += frame.bundles.filter((b) => b.oneTimePreKey !== undefined).length;
}

function send(device: Device, frame: Frame): void {
  const bytes = TEST_CODEC.encode(frame);
  device.client.sendBytes(bytes);
  figures.framesSent += 1;
  figures.bytesSent += bytes.length;
}

/** Frames: pings as fast as the socket takes them, from `lanes` connections (4); a closed one is replaced (authentication counts per IP). */
async function floodFrames(): Promise<void> {
  const lane = async () => {
    let device = await flooder();
    announceOnce();
    while (performance.now() < deadline) {
      if (device === undefined || device.client.isClosed) {
        device = await flooder();
        if (device === undefined) await sleep(200);
        continue;
      }
      for (let i = 0; i < 200; i++) send(device, { type: 'ping', nonce: i });
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  await Promise.all(Array.from({ length: args.lanes ?? 4 }, lane));
}

/** Bytes: the largest publications the server takes, 120 a second (under the frame rate: only a byte limit can stop it). */
async function floodBytes(): Promise<void> {
  let device = await flooder();
  const payload = new Uint8Array(randomBytes(args.payloadBytes));
  announceOnce();
  await paced(120, deadline, async (i) => {
    if (device === undefined || device.client.isClosed) device = await flooder();
    if (device !== undefined) send(device, { type: 'publish', id: i + 1, channel: `public:bytes-${i % 50}`, payload });
  });
}

/**
 * Not a flood: a heavy user within every limit, publishing the largest payload
 * the server takes at `perSecond` (the suite gives `rate_bytes` / that size). The
 * byte-carrying floods are compared with it: what they send beyond the limits
 * must cost the others nothing more than what the limits let through.
 */
async function heavyUser(): Promise<void> {
  const device = await flooder();
  if (device === undefined) return;
  const payload = new Uint8Array(randomBytes(args.payloadBytes));
  announceOnce();
  await paced(args.perSecond ?? 1, deadline, (i) => {
    if (!device.client.isClosed)
      send(device, { type: 'publish', id: i + 1, channel: `public:heavy-${i % 50}`, payload });
  });
}

/** Prekey fetches: the victim's bundle, 100 a second, from 5 free accounts of this IP. */
async function floodPrekeys(): Promise<void> {
  const devices: Device[] = [];
  for (let i = 0; i < 5; i++) {
    const device = await flooder();
    if (device !== undefined) devices.push(device);
  }
  if (devices.length === 0) return;
  announceOnce();
  await paced(100, deadline, (i) => {
    const device = devices[i % devices.length]!;
    if (!device.client.isClosed) send(device, { type: 'bundle_fetch', id: i + 1, account: args.victim as string });
  });
}

/**
 * Channels: as many connections as the IP may open, each subscribing to as many
 * fresh channels as it may; large publications into fresh channels (to push the
 * others' history out of the shared budget); join/leave on the lobby the
 * measured clients watch with presence.
 */
async function floodChannels(): Promise<void> {
  const devices: Device[] = [];
  const payload = new Uint8Array(randomBytes(args.payloadBytes));
  announceOnce();
  const subscribing = (async () => {
    for (let c = 0; c < 120 && performance.now() < deadline; c++) {
      const device = await flooder();
      if (device === undefined) {
        await sleep(200);
        continue;
      }
      devices.push(device);
      for (let n = 0; n < 120; n++) send(device, { type: 'subscribe', id: n + 1, channel: `public:fill-${c}-${n}` });
      await sleep(20);
    }
  })();
  const publisher = await flooder();
  const publishing = paced(60, deadline, (i) => {
    if (publisher !== undefined && !publisher.client.isClosed)
      send(publisher, { type: 'publish', id: i + 1, channel: `public:evict-${i}`, payload });
  });
  const joiner = await flooder();
  const churning = paced(100, deadline, (i) => {
    if (joiner === undefined || joiner.client.isClosed) return;
    send(
      joiner,
      i % 2 === 0
        ? { type: 'subscribe', id: i + 1, channel: 'public:lobby' }
        : { type: 'unsubscribe', id: i + 1, channel: 'public:lobby' },
    );
  });
  await Promise.all([subscribing, publishing, churning]);
}

const floods: Record<FloodKind, () => Promise<void>> = {
  frames: floodFrames,
  bytes: floodBytes,
  prekeys: floodPrekeys,
  channels: floodChannels,
  heavy: heavyUser,
};
await floods[args.kind]();
await sleep(200); // the last answers
await finishWorker(figures);
