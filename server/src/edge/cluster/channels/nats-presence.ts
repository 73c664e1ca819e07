import { randomBytes } from 'node:crypto';
import { jetstream, StorageType } from '@nats-io/jetstream';
import { type KV, type KvEntry, Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Following } from '../../../core/ports/channel-log.ts';
import type { PresenceShare, SharedMember } from '../../../core/ports/presence-share.ts';
import { ChannelSubjects } from './channel-subjects.ts';

export interface NatsPresenceOptions {
  readonly servers: readonly string[];
  readonly replicas: number;
  /** Keys the channel tokens (the same key as the channel log's subjects). */
  readonly subjectKey: Uint8Array;
  /** How often this node refreshes its entries (their TTL is `timeoutMs`). */
  readonly intervalMs: number;
  /** A node whose entry was not refreshed for this long counts as gone (heartbeat.timeout). */
  readonly timeoutMs: number;
  readonly prefix?: string;
  /** Told of NATS errors while refreshing or watching (logged by the node; presence carries on). */
  readonly onError?: (error: unknown) => void;
}

/** One node's entry on one channel, as this node last heard it. */
interface NodeEntry {
  readonly revision: number;
  readonly members: readonly SharedMember[];
  /** This process's monotonic clock when it was last heard (no comparison of clocks across machines). */
  heardAt: number;
}

interface Watch {
  readonly token: string;
  readonly nodes: Map<string, NodeEntry>;
  readonly listeners: Set<(members: readonly SharedMember[]) => void>;
  stop?: () => void;
}

/** Members one node shows per channel at most: a snapshot lists no more (the protocol's array limit). */
const MAX_MEMBERS_PER_ENTRY = 1_000;

/** Members are kept compact in KV: [account, deviceId, connectedAt]. */
type Packed = [string, number, number];

/**
 * Presence across nodes on NATS KV (the PresenceShare port, core/ports/presence-share.ts).
 *
 * Bucket `pulse_presence`, key `<channel token>.<node id>` (the token is the
 * channel subject's keyed hash, so channel names stay out of NATS), value: the
 * node's visible members of that channel. Only its node writes a key, whole,
 * so updates from different nodes never collide, and a channel's view is the
 * union over nodes (a map of single-writer registers: merging is union, no
 * update is lost). Liveness: a node re-puts its entries every `intervalMs`;
 * the bucket's TTL (`timeoutMs`) removes the entries of a node that stopped,
 * and watchers drop an entry not heard for `timeoutMs` (JetStream 2.9 sends
 * no notice when a TTL expires), so a dead node's members leave every view
 * within the timeout (plus one sweep, `intervalMs`). A node that closes
 * deletes its entries: its members leave at once.
 */
export class NatsPresence implements PresenceShare {
  readonly #options: NatsPresenceOptions;
  readonly #subjects: ChannelSubjects;
  /** This process's id among the nodes (random per start: a restarted node is a new one). */
  readonly nodeId = randomBytes(6).toString('hex');
  /** This node's non-empty entries by channel token. */
  readonly #mine = new Map<string, readonly SharedMember[]>();
  readonly #watches = new Map<string, Watch>();
  readonly #timer: NodeJS.Timeout;
  #kv: Promise<{ nc: NatsConnection; kv: KV }> | undefined;
  #closed = false;

  constructor(options: NatsPresenceOptions) {
    this.#options = options;
    this.#subjects = new ChannelSubjects(options.prefix ?? 'pulse', options.subjectKey);
    this.#timer = setInterval(() => this.#heartbeat(), options.intervalMs);
    this.#timer.unref();
  }

  set(channel: string, members: readonly SharedMember[]): void {
    const token = this.#subjects.token(channel);
    if (members.length === 0) this.#mine.delete(token);
    else this.#mine.set(token, members.slice(0, MAX_MEMBERS_PER_ENTRY));
    void this.#write(token).catch((error: unknown) => this.#options.onError?.(error));
  }

  watch(channel: string, listener: (members: readonly SharedMember[]) => void): Following {
    const token = this.#subjects.token(channel);
    let watch = this.#watches.get(token);
    const starting = watch === undefined;
    if (watch === undefined) {
      watch = { token, nodes: new Map(), listeners: new Set() };
      this.#watches.set(token, watch);
    }
    watch.listeners.add(listener);
    const current = watch;
    const ready = starting ? this.#startWatch(current) : Promise.resolve(listener(merged(current)));
    ready.catch((error: unknown) => this.#options.onError?.(error));
    return {
      ready: ready.catch(() => {}),
      stop: () => {
        current.listeners.delete(listener);
        if (current.listeners.size > 0) return;
        current.stop?.();
        this.#watches.delete(token);
      },
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    for (const watch of this.#watches.values()) watch.stop?.();
    this.#watches.clear();
    const opened = await this.#kv?.catch(() => undefined);
    if (opened === undefined) return;
    // Leaving now rather than at the timeout: a stopping node's members leave every view at once.
    await Promise.all([...this.#mine.keys()].map((token) => opened.kv.delete(this.#key(token)).catch(() => {})));
    this.#mine.clear();
    await opened.nc.close();
  }

  #key(token: string, node = this.nodeId): string {
    return `${token}.${node}`;
  }

  async #write(token: string): Promise<void> {
    const { kv } = await this.#open();
    const members = this.#mine.get(token);
    if (members === undefined) await kv.delete(this.#key(token));
    else await kv.put(this.#key(token), JSON.stringify(members.map(pack)));
  }

  /** Refreshes this node's entries (their TTL) and drops other nodes' entries not heard within the timeout. */
  #heartbeat(): void {
    for (const token of this.#mine.keys()) {
      void this.#write(token).catch((error: unknown) => this.#options.onError?.(error));
    }
    const now = performance.now();
    for (const watch of this.#watches.values()) {
      let changed = false;
      for (const [node, entry] of watch.nodes) {
        if (now - entry.heardAt > this.#options.timeoutMs) {
          watch.nodes.delete(node);
          changed = true;
        }
      }
      if (changed) notify(watch);
    }
  }

  async #startWatch(watch: Watch): Promise<void> {
    const { kv } = await this.#open();
    const updates = await kv.watch({ key: `${watch.token}.*` });
    watch.stop = () => updates.stop();
    void (async () => {
      for await (const entry of updates) this.#heard(watch, entry);
    })().catch((error: unknown) => this.#options.onError?.(error));
    // The current entries, read once: the watch may still be delivering them.
    const keys = await kv.keys(`${watch.token}.*`);
    const entries: KvEntry[] = [];
    for await (const key of keys) {
      const entry = await kv.get(key);
      if (entry !== null) entries.push(entry);
    }
    for (const entry of entries) this.#heard(watch, entry);
    notify(watch);
  }

  #heard(watch: Watch, entry: KvEntry): void {
    const node = entry.key.slice(watch.token.length + 1);
    if (node === this.nodeId) return;
    const known = watch.nodes.get(node);
    if (known !== undefined && known.revision > entry.revision) return;
    if (entry.operation !== 'PUT') {
      if (watch.nodes.delete(node)) notify(watch);
      return;
    }
    const members = unpack(entry.string());
    const same = known !== undefined && sameMembers(known.members, members);
    // An entry read at the start may be old already (its node may be dead): it counts from when NATS stored it.
    const age = Math.min(Math.max(0, Date.now() - entry.created.getTime()), this.#options.timeoutMs);
    watch.nodes.set(node, { revision: entry.revision, members, heardAt: performance.now() - age });
    if (!same) notify(watch);
  }

  #open(): Promise<{ nc: NatsConnection; kv: KV }> {
    if (this.#closed) return Promise.reject(new Error('presence closed'));
    this.#kv ??= (async () => {
      const nc = await connect({
        servers: [...this.#options.servers],
        name: 'pulse-presence',
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
      });
      const kvm = new Kvm(jetstream(nc));
      const bucket = `${this.#subjects.prefix}_presence`;
      // A bucket made by a node with another timeout is used as it is rather than refused.
      const options = { history: 1, replicas: this.#options.replicas, ttl: this.#options.timeoutMs };
      const kv = await kvm
        .create(bucket, { ...options, storage: StorageType.File })
        .catch(() => kvm.open(bucket))
        .catch(async (error: unknown) => {
          await nc.close();
          throw error;
        });
      return { nc, kv };
    })();
    this.#kv.catch(() => {
      this.#kv = undefined;
    });
    return this.#kv;
  }
}

function merged(watch: Watch): SharedMember[] {
  const all: SharedMember[] = [];
  for (const entry of watch.nodes.values()) all.push(...entry.members);
  return all;
}

function notify(watch: Watch): void {
  const members = merged(watch);
  for (const listener of watch.listeners) listener(members);
}

function pack(member: SharedMember): Packed {
  return [member.account, member.deviceId, member.connectedAt];
}

function unpack(text: string): SharedMember[] {
  try {
    const value: unknown = JSON.parse(text);
    if (!Array.isArray(value)) return [];
    return value
      .filter(
        (m): m is Packed =>
          Array.isArray(m) && typeof m[0] === 'string' && Number.isSafeInteger(m[1]) && Number.isSafeInteger(m[2]),
      )
      .map(([account, deviceId, connectedAt]) => ({ account, deviceId, connectedAt }));
  } catch {
    return [];
  }
}

function sameMembers(a: readonly SharedMember[], b: readonly SharedMember[]): boolean {
  return (
    a.length === b.length &&
    a.every(
      (m, i) => m.account === b[i]!.account && m.deviceId === b[i]!.deviceId && m.connectedAt === b[i]!.connectedAt,
    )
  );
}
