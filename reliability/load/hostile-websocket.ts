/**
 * Worker: the hostile wire over WebSocket (reliability/suites/hostile-wire.ts):
 * random, mutated and lying frames, and slow senders that never finish.
 */
import { finishWorker, workerArgs } from '../lib/worker.ts';
import { slowWebSocketSenders } from './hostile/slow-senders.ts';
import { sprayWebSocket } from './hostile/websocket-spray.ts';

export interface HostileWebSocketArgs {
  readonly url: string;
  readonly port: number;
  readonly durationMs: number;
  readonly framesPerSecond: number;
  readonly slowSenders: number;
}

const args = workerArgs<HostileWebSocketArgs>();
const deadline = performance.now() + args.durationMs;
const [spray, slow] = await Promise.all([
  sprayWebSocket(args.url, args.framesPerSecond, 16, deadline),
  slowWebSocketSenders(args.port, args.slowSenders, deadline),
]);
await finishWorker({ spray, slow });
