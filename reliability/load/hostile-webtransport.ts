/**
 * Worker: the hostile wire over WebTransport and raw UDP
 * (reliability/suites/hostile-wire.ts): hostile frames and framing, slow
 * senders, floods of streams and datagrams, half-open QUIC handshakes, garbage.
 */
import { finishWorker, workerArgs } from '../lib/worker.ts';
import { garbageUdp, halfOpenHandshakes } from './hostile/udp-attacks.ts';
import {
  floodStreamsAndDatagrams,
  slowWebTransportSenders,
  sprayWebTransport,
} from './hostile/webtransport-attacks.ts';

export interface HostileWebTransportArgs {
  readonly url: string;
  readonly port: number;
  readonly certificateSha256Hex: string;
  readonly durationMs: number;
  readonly framesPerSecond: number;
  readonly slowSenders: number;
  readonly floodSessions: number;
  readonly floodPerSecond: number;
  readonly halfOpenPerSecond: number;
  readonly garbagePerSecond: number;
}

const args = workerArgs<HostileWebTransportArgs>();
const deadline = performance.now() + args.durationMs;
const target = { url: args.url, certificateSha256: new Uint8Array(Buffer.from(args.certificateSha256Hex, 'hex')) };
const [spray, slow, flood, halfOpen, garbage] = await Promise.all([
  sprayWebTransport(target, args.framesPerSecond, deadline),
  slowWebTransportSenders(target, args.slowSenders, deadline),
  floodStreamsAndDatagrams(target, args.floodSessions, args.floodPerSecond, deadline),
  halfOpenHandshakes(args.port, args.halfOpenPerSecond, deadline),
  garbageUdp(args.port, args.garbagePerSecond, deadline),
]);
await finishWorker({ spray, slow, flood, halfOpen, garbage });
