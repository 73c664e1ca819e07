import type { Frame, FrameOf, FrameType } from '@pulse/proto';
import { TEST_CODEC as codec } from '@pulse/testing/protocol';
import type { SignatureVerifier } from '../../src/core/auth/verifier.ts';
import type { Connection, ConnectionHandler } from '../../src/core/connection.ts';
import { DEFAULT_LIMITS, type ServerLimits } from '../../src/core/limits/limits.ts';
import type { SealedSenderAuthority } from '../../src/core/ports/sealed-sender.ts';
import { PulseCore } from '../../src/core/pulse-core.ts';
import type { Store } from '../../src/core/store.ts';
import { countingRandom, fakeMac, ManualClock, ManualScheduler, RecordingMetrics, silentLogger } from './fake-ports.ts';
import { MemoryStore } from './memory-store.ts';

export const T0 = 1_700_000_000_000;

/**
 * A peer talking to the core directly: frames in through the ConnectionHandler,
 * frames out into `frames`. The core answers once what it awaits has settled
 * and the test has run the group commit: `send` and `request` resolve then.
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

  /** Hands a frame to the core and returns at once (frames posted together share a group commit). */
  post(frame: Frame): void {
    this.#handler.onFrame(codec.encode(frame));
  }

  /** Hands a frame to the core; resolves once it (and any group commit it caused) is handled. */
  send(frame: Frame): Promise<void> {
    this.post(frame);
    return this.#scheduler.runIo();
  }

  /** Sends a request (its id set here), runs pending group commits, returns the answer with that id. */
  async request(frame: Frame): Promise<Frame> {
    const id = this.#nextId++;
    await this.send({ ...frame, id } as Frame);
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
 * sockets, no timers, no Node. Signatures always verify unless `verify` says otherwise (the rules are the
 * subject here, not the signatures).
 */
export function startCore(
  options: {
    limits?: Partial<ServerLimits>;
    store?: Store;
    purgeIntervalMs?: number;
    verify?: SignatureVerifier;
    sealedSender?: SealedSenderAuthority;
  } = {},
) {
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
    verify: options.verify ?? (() => true),
    mac: fakeMac(1),
    clock,
    random: countingRandom(),
    scheduler,
    metrics,
    log: silentLogger,
    sealedSender: options.sealedSender,
  });
  let peers = 0;
  const connect = async () => {
    const peer = new Peer(core, scheduler, `127.0.0.${(++peers % 250) + 1}`);
    await peer.send({ type: 'hello', versions: [2], client: 'core-test' });
    return peer;
  };
  /** A new account with one device, authenticated on its own peer. */
  const register = async (account: string) => {
    const peer = await connect();
    const ok = await peer.request({
      type: 'register',
      id: 0,
      account,
      deviceName: 'first',
      identityKey: key(account.length),
      signature: new Uint8Array(64),
      accountKey: key(500 + account.length),
      deviceList: {
        version: 1,
        devices: [{ deviceId: 1, identityKey: key(account.length), name: 'first', addedAt: T0 }],
        signature: new Uint8Array(64),
      },
    });
    if (ok.type !== 'auth_ok') throw new Error(`register ${account}: ${outcome(ok)}`);
    return peer;
  };
  /**
   * Links device `key(1000 + n)` to `existing`'s account as PROTOCOL.md "Linking" has it (signatures are
   * not checked here: `verify` accepts anything). Returns the outcome of the approving `device_list_update`.
   */
  const link = async (existing: Peer, account: string, n: number): Promise<string> => {
    const fresh = await connect();
    const prekey = { keyId: 1, publicKey: key(2000 + n), signature: new Uint8Array(64) };
    const pending = await fresh.request({
      type: 'link_request',
      id: 0,
      account,
      deviceName: `d${n}`,
      identityKey: key(1000 + n),
      signedPreKey: prekey,
      pqPreKey: prekey,
      mac: new Uint8Array(32),
      signature: new Uint8Array(64),
    });
    if (pending.type !== 'link_pending') return outcome(pending);
    const links = await existing.request({ type: 'link_list', id: 0 });
    const current = await existing.request({ type: 'device_list', id: 0 });
    if (links.type !== 'links' || current.type !== 'devices') throw new Error('link: no list');
    const request = links.requests.find((r) => r.linkId === pending.linkId)!;
    const added = { deviceId: request.deviceId, identityKey: key(1000 + n), name: `d${n}`, addedAt: T0 };
    const update = await existing.request({
      type: 'device_list_update',
      id: 0,
      deviceList: {
        version: current.deviceList.version + 1,
        devices: [...current.deviceList.devices, added],
        signature: new Uint8Array(64),
      },
      link: { linkId: pending.linkId, provisioning: new Uint8Array(8) },
    });
    return outcome(update);
  };
  /** Signs (not really: `verify` accepts anything) a list of `account` without `deviceId`; returns the outcome. */
  const unlink = async (existing: Peer, deviceId: number): Promise<string> => {
    const current = await existing.request({ type: 'device_list', id: 0 });
    if (current.type !== 'devices') return outcome(current);
    return outcome(
      await existing.request({
        type: 'device_list_update',
        id: 0,
        deviceList: {
          version: current.deviceList.version + 1,
          devices: current.deviceList.devices.filter((d) => d.deviceId !== deviceId),
          signature: new Uint8Array(64),
        },
      }),
    );
  };
  return { core, clock, scheduler, metrics, store, connect, register, link, unlink };
}

/** A 33-byte identity key, distinct per `n`. */
export function key(n: number): Uint8Array {
  const bytes = new Uint8Array(33).fill(n & 0xff);
  bytes[0] = 5;
  bytes[1] = n >> 8;
  return bytes;
}
