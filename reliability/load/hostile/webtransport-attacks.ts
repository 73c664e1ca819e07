import { randomBytes, randomInt } from 'node:crypto';
import { encodeVarint } from '@pulse/proto';
import { TEST_CODEC, type WebTransportWire, webTransportWire } from '@pulse/testing/protocol';
import { hostileFrame } from './hostile-frames.ts';
import { paced, sleep, within } from './pacing.ts';

/** How long one session, stream or handshake may take before the attack moves on. */
const STEP_MS = 3_000;

type NodeWebTransport = import('@pulse/webtransport/node').NodeWebTransport;

export interface WebTransportTarget {
  readonly url: string;
  readonly certificateSha256: Uint8Array;
}

async function session(target: WebTransportTarget): Promise<NodeWebTransport> {
  const { connectWebTransport } = await import('@pulse/webtransport/node');
  const wt = connectWebTransport(target.url, {
    serverCertificateHashes: [{ algorithm: 'sha-256', value: target.certificateSha256 }],
  });
  wt.closed.catch(() => {});
  return wt;
}

async function wire(
  target: WebTransportTarget,
): Promise<{ wt: NodeWebTransport; wire: WebTransportWire; closed: () => boolean }> {
  const wt = await session(target);
  let closed = false;
  const w = await within(
    webTransportWire(wt, {
      onFrame: () => {},
      onClose: () => {
        closed = true;
      },
    }),
    STEP_MS,
  ).catch((error: unknown) => {
    wt.close();
    throw error;
  });
  return { wt, wire: w, closed: () => closed };
}

export interface WebTransportSprayFigures {
  sessions: number;
  frames: number;
  closedByServer: number;
  failures: number;
}

const FRAMES_PER_SESSION = 50;

/**
 * Hostile frames over WebTransport's stream framing: random, mutated and lying
 * frames behind honest length prefixes, prefixes that announce more than the
 * frame limit, and bytes with no framing at all.
 */
export async function sprayWebTransport(
  target: WebTransportTarget,
  perSecond: number,
  deadline: number,
): Promise<WebTransportSprayFigures> {
  const figures: WebTransportSprayFigures = { sessions: 0, frames: 0, closedByServer: 0, failures: 0 };
  let current: Awaited<ReturnType<typeof wire>> | undefined;
  let sent = 0;
  await paced(perSecond, deadline, async () => {
    if (current === undefined || current.closed() || sent >= FRAMES_PER_SESSION) {
      if (current !== undefined) {
        if (current.closed() && sent < FRAMES_PER_SESSION) figures.closedByServer += 1;
        current.wt.close();
      }
      try {
        current = await wire(target);
        figures.sessions += 1;
        sent = 0;
        if (Math.random() < 0.5) current.wire.send(TEST_CODEC.encode({ type: 'hello', versions: [1], client: 'x' }));
      } catch {
        figures.failures += 1;
        current = undefined;
        return;
      }
    }
    const kind = randomInt(10);
    if (kind < 7) current.wire.send(hostileFrame());
    else if (kind < 9) current.wire.sendUnframed(new Uint8Array(randomBytes(randomInt(1, 512))));
    else current.wire.sendUnframed(encodeVarint(Number.MAX_SAFE_INTEGER)); // a length far past max_frame_bytes
    sent += 1;
    figures.frames += 1;
  });
  current?.wt.close();
  return figures;
}

export interface SlowWebTransportFigures {
  sessions: number;
  closedByServer: number;
  bytesTrickled: number;
}

/** Sessions whose stream announces a 900,000-byte frame and trickles a byte every 500 ms. */
export async function slowWebTransportSenders(
  target: WebTransportTarget,
  count: number,
  deadline: number,
): Promise<SlowWebTransportFigures> {
  const figures: SlowWebTransportFigures = { sessions: 0, closedByServer: 0, bytesTrickled: 0 };
  const open: Awaited<ReturnType<typeof wire>>[] = [];
  for (let i = 0; i < count && performance.now() < deadline; i++) {
    try {
      const w = await wire(target);
      w.wire.sendUnframed(Uint8Array.from([...encodeVarint(900_000), ...randomBytes(100)]));
      open.push(w);
      figures.sessions += 1;
    } catch {
      // counted by the sessions that did open
    }
  }
  while (performance.now() < deadline) {
    await sleep(Math.min(500, Math.max(0, deadline - performance.now())));
    for (const w of open) {
      if (w.closed()) continue;
      w.wire.sendUnframed(Uint8Array.of(0x58));
      figures.bytesTrickled += 1;
    }
  }
  figures.closedByServer = open.filter((w) => w.closed()).length;
  for (const w of open) w.wt.close();
  return figures;
}

export interface FloodFigures {
  sessions: number;
  unidirectionalStreams: number;
  bidirectionalStreams: number;
  streamBytes: number;
  datagrams: number;
  refusedOrFailed: number;
}

/**
 * Floods of what a Pulse session never reads (the critical finding):
 * one-way streams filled with data, bidirectional streams beyond the first, and
 * datagrams, from `sessions` sessions at `perSecond` operations in all.
 */
export async function floodStreamsAndDatagrams(
  target: WebTransportTarget,
  sessions: number,
  perSecond: number,
  deadline: number,
): Promise<FloodFigures> {
  const figures: FloodFigures = {
    sessions: 0,
    unidirectionalStreams: 0,
    bidirectionalStreams: 0,
    streamBytes: 0,
    datagrams: 0,
    refusedOrFailed: 0,
  };
  const opened: NodeWebTransport[] = [];
  for (let i = 0; i < sessions; i++) {
    try {
      const wt = await session(target);
      await within(wt.ready, STEP_MS);
      opened.push(wt);
      figures.sessions += 1;
    } catch {
      figures.refusedOrFailed += 1;
    }
  }
  const chunk = new Uint8Array(randomBytes(16 * 1024));
  const datagram = new Uint8Array(randomBytes(1000));
  const writers = opened.map((wt) => wt.datagrams.writable.getWriter());
  await paced(perSecond, deadline, async (index) => {
    const at = index % opened.length;
    const wt = opened[at];
    if (wt === undefined || wt.state === 'closed') return;
    const kind = index % 4;
    try {
      if (kind === 0) {
        const stream = await within(wt.createUnidirectionalStream(), STEP_MS);
        const writer = stream.getWriter();
        writer.write(chunk).catch(() => {});
        writer.write(chunk).catch(() => {});
        if (index % 8 === 0) writer.close().catch(() => {}); // some finished, some left open
        figures.unidirectionalStreams += 1;
        figures.streamBytes += 2 * chunk.length;
      } else if (kind === 1) {
        const stream = await within(wt.createBidirectionalStream(), STEP_MS);
        const writer = stream.writable.getWriter();
        writer.write(chunk).catch(() => {});
        figures.bidirectionalStreams += 1;
        figures.streamBytes += chunk.length;
      } else {
        writers[at]?.write(datagram).catch(() => {});
        figures.datagrams += 1;
      }
    } catch {
      figures.refusedOrFailed += 1;
    }
  });
  for (const wt of opened) wt.close();
  return figures;
}
