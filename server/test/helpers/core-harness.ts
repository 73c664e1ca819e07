import type { Frame, FrameOf, FrameType } from '@pulse/proto';
import { TEST_CODEC as codec } from '@pulse/testing/protocol';
import type { Connection, ConnectionHandler } from '../../src/core/connection.ts';
import { DEFAULT_LIMITS, type ServerLimits } from '../../src/core/limits/limits.ts';
import { PulseCore } from '../../src/core/pulse-core.ts';
import type { Store } from '../../src/core/store.ts';
import { countingRandom, fakeMac, ManualClock, ManualScheduler, RecordingMetrics, silentLogger } from './fake-ports.ts';
import { MemoryStore } from './memory-store.ts';

export const T0 = 1_700_000_000_000;

/**
 * A peer talking to the core directly: frames in through the ConnectionHandler,
 * frames out into `frames`, synchronously. Sends are answered once the test
 * runs the group commit (`request` does).
 */
export class Peer {
  readonly frames: Frame[] = [];
  closedWith: string | undefined;
  /** What the fake connection reports as not yet sent (flow-control tests set it). */
  buffered = 0;
  readonly #handler: ConnectionHandler;
  readonly #scheduler: ManualScheduler;
  #nextId = 1;

  constructor(core: PulseCore, scheduler: ManualScheduler, remoteAddress: string) {
    this.#scheduler = scheduler;
    const peer = this;
    const connection: Connection = {
      transport: 'memory',
      remoteAddress,
      get bufferedAmount() {
        return peer.buffered;
      },
      send: (bytes) => this.frames.push(codec.decode(bytes)),
      close: (code) => {
        this.closedWith = code;
      },
    };
    const handler = core.accept(connection);
    if (handler === undefined) throw new Error('connection refused');
    this.#handler = handler;
  }

  send(frame: Frame): void {
    this.#handler.onFrame(codec.encode(frame));
  }

  /** Sends a request (its id set here), runs pending group commits, returns the answer with that id. */
  request(frame: Frame): Frame {
    const id = this.#nextId++;
    this.send({ ...frame, id } as Frame);
    this.#scheduler.runIo();
    const answer = this.frames.find((f) => 'id' in f && f.id === id);
    if (answer === undefined) throw new Error(`no answer to ${frame.type}`);
    return answer;
  }

  /** The frames of `type` received so far, taken out of `frames`. */
  take<T extends FrameType>(type: T): FrameOf<T>[] {
    const taken = this.frames.filter((f) => f.type === type) as FrameOf<T>[];
    this.frames.splice(0, this.frames.length, ...this.frames.filter((f) => f.type !== type));
    return taken;
  }
}

/** What an answer says, in one word: its type, or its error code. */
export const outcome = (frame: Frame): string => (frame.type === 'error' ? frame.code : frame.type);

/**
 * The core alone on fake ports and the in-memory test store: no SQLite, no
 * sockets, no timers, no Node. Signatures always verify (the rules are the
 * subject here, not the signatures).
 */
export function startCore(options: { limits?: Partial<ServerLimits>; store?: Store; purgeIntervalMs?: number } = {}) {
  const clock = new ManualClock(T0);
  const scheduler = new ManualScheduler(clock);
  const metrics = new RecordingMetrics();
  const store = options.store ?? new MemoryStore();
  const core = new PulseCore({
    settings: {
      limits: { ...DEFAULT_LIMITS, ...options.limits },
      heartbeat: { interval: 15_000, timeout: 45_000 },
      purgeIntervalMs: options.purgeIntervalMs ?? 60_000,
    },
    store,
    verify: () => true,
    mac: fakeMac(1),
    clock,
    random: countingRandom(),
    scheduler,
    metrics,
    log: silentLogger,
  });
  let peers = 0;
  const connect = () => {
    const peer = new Peer(core, scheduler, `127.0.0.${(++peers % 250) + 1}`);
    peer.send({ type: 'hello', versions: [1], client: 'core-test' });
    return peer;
  };
  /** A new account with one device, authenticated on its own peer. */
  const register = (account: string) => {
    const peer = connect();
    const ok = peer.request({
      type: 'register',
      id: 0,
      account,
      deviceName: 'first',
      identityKey: key(account.length),
      signature: new Uint8Array(64),
    });
    if (ok.type !== 'auth_ok') throw new Error(`register ${account}: ${outcome(ok)}`);
    return peer;
  };
  return { core, clock, scheduler, metrics, store, connect, register };
}

/** A 33-byte identity key, distinct per `n`. */
export function key(n: number): Uint8Array {
  const bytes = new Uint8Array(33).fill(n & 0xff);
  bytes[0] = 5;
  bytes[1] = n >> 8;
  return bytes;
}
