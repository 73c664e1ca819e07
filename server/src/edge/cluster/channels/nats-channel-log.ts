import { randomBytes } from 'node:crypto';
import {
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  type MsgRequest,
  RetentionPolicy,
  StorageType,
  type StoredMsg,
} from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type {
  ChannelEntry,
  ChannelLog,
  ChannelLogBudget,
  ChannelPosition,
  ChannelRead,
  ChannelRecord,
  Following,
} from '../../../core/ports/channel-log.ts';
import { StoreConflict, StoreUnavailable } from '../../../core/store.ts';
import { isWrongLastSequence } from '../../storage/nats/compare-and-set.ts';
import { unavailableIfConnection } from '../../storage/nats/link.ts';
import { decodeEntry, encodeEntry, type StreamedEntry } from './channel-record.ts';
import { ChannelSubjects } from './channel-subjects.ts';

export interface NatsChannelLogOptions {
  /** `[cluster] nats`. */
  readonly servers: readonly string[];
  /** Copies of the stream and bucket (`[cluster] replicas`). */
  readonly replicas: number;
  readonly budget: ChannelLogBudget;
  /** Keys the subject hashes; every node of a cluster must have the same (channel-subjects.ts). */
  readonly subjectKey: Uint8Array;
  /** Names the stream, bucket and subjects (default `pulse`). */
  readonly prefix?: string;
  /** How long one NATS request may take before UNAVAILABLE (default 2 s). */
  readonly requestTimeoutMs?: number;
  /** Told when a follower stops, or setting up again after a reconnect fails (logged by the node). */
  readonly onFollowError?: (error: unknown) => void;
}

interface Handles {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly heads: KV;
}

/** A channel's head in KV: the epoch to use while its subject is empty, and whether it was ever published under. */
interface Head {
  readonly epoch: string;
  readonly used: boolean;
}

/** Compare-and-set rounds an append or head read tries before giving up (StoreConflict → INTERNAL): nodes racing on one channel. */
const CAS_ATTEMPTS = 64;
const DEFAULT_TIMEOUT_MS = 2_000;
const newEpoch = () => randomBytes(8).toString('hex');
/** The subject's first message at or after `seq` (the typings lack `next_by_subj`, which the server has). */
const nextOn = (subject: string, seq: number): MsgRequest => ({ seq, next_by_subj: subject }) as MsgRequest;

/**
 * The channel log on NATS JetStream (cluster mode, issue 13): every node
 * appends to and reads from one stream, so a channel's offsets, history and
 * replay are the same on every node and survive any node's restart.
 *
 * - Stream `PULSE_CHANNELS`, subject `pulse.channels.<HMAC of the name>`
 *   (channel-subjects.ts), limits from the budget: `max_msgs_per_subject`
 *   (history_size), `max_age` (history_age), `max_bytes` (history_bytes,
 *   whole messages), discard old. history_bytes_per_account is not enforced
 *   here (JetStream counts no bytes per publisher): in cluster mode
 *   max_channels_per_account, rate limits and max_message_size bound it.
 * - Offsets are dense per channel, written in each message body
 *   (channel-record.ts): an append reads the subject's last message and
 *   publishes offset+1 expecting that message as the subject's last
 *   (`Nats-Expected-Last-Subject-Sequence`), so two nodes never hand out one
 *   offset and the stream order is the offset order. Not the stream sequence:
 *   it would leave holes (replay could not tell trimmed from never there) and
 *   tell any subscriber the whole cluster's channel traffic.
 * - The epoch is in every message; KV bucket `pulse_channel_heads` holds it
 *   only for a subject that is empty: new (subscribed, never published), or
 *   emptied by the budget. A subject emptied after being published under
 *   (`used`) lost its history: the next position or append takes a new epoch.
 *   Heads expire after history_age (nothing of the channel is left then).
 * - Follow: an ordered consumer per channel with subscribers on this node,
 *   filtered to its subject, starting after the stream's last sequence when the
 *   follow began: every later publication, from any node, in stream order.
 */
export class NatsChannelLog implements ChannelLog {
  readonly #options: NatsChannelLogOptions;
  readonly #subjects: ChannelSubjects;
  readonly #timeout: number;
  #handles: Handles | undefined;
  #connecting: Promise<Handles> | undefined;
  #closed = false;

  constructor(options: NatsChannelLogOptions) {
    if (options.servers.length === 0) throw new Error('cluster mode needs at least one NATS URL');
    this.#options = options;
    this.#subjects = new ChannelSubjects(options.prefix ?? 'pulse', options.subjectKey);
    this.#timeout = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    // Connects in the background; calls before NATS answers wait for it (then UNAVAILABLE if it does not).
    void this.#connect().catch(() => {});
  }

  /** The subject a channel's messages are on (what the NATS operator sees). */
  subjectOf(channel: string): string {
    return this.#subjects.subject(channel);
  }

  position(channel: string): Promise<ChannelPosition> {
    return this.#run(async (h) => {
      const last = await this.#last(h, channel);
      if (last !== undefined) return { epoch: last.entry.epoch, offset: last.entry.offset };
      return { epoch: (await this.#headForRead(h, channel)).epoch, offset: 0 };
    });
  }

  append(channel: string, record: ChannelRecord): Promise<ChannelPosition> {
    const subject = this.#subjects.subject(channel);
    return this.#run(async (h) => {
      for (let attempt = 1; attempt <= CAS_ATTEMPTS; attempt++) {
        const last = await this.#last(h, channel);
        const epoch = last?.entry.epoch ?? (await this.#emptyHead(h, channel, true))?.epoch;
        // Another node made the head first: it may have published too.
        if (epoch === undefined) continue;
        const offset = (last?.entry.offset ?? 0) + 1;
        try {
          await h.js.publish(subject, encodeEntry({ ...record, epoch, offset }), {
            expect: { lastSubjectSequence: last?.seq ?? 0, streamName: this.#subjects.stream },
          });
          return { epoch, offset };
        } catch (error) {
          // Another node appended first: read its offset and go after it.
          if (!isWrongLastSequence(error)) throw error;
        }
      }
      throw new StoreConflict(`channel appends kept colliding on ${subject}`);
    });
  }

  read(channel: string, after: number, limit: number, now: number): Promise<ChannelRead> {
    const subject = this.#subjects.subject(channel);
    return this.#run(async (h) => {
      const last = await this.#last(h, channel);
      if (last === undefined) {
        const position = { epoch: (await this.#headForRead(h, channel)).epoch, offset: 0 };
        return { position, entries: [], complete: after === 0 };
      }
      const position = { epoch: last.entry.epoch, offset: last.entry.offset };
      if (after >= position.offset) return { position, entries: [], complete: after === position.offset };
      const oldest = now - this.#options.budget.maxAgeMs;
      const following: ChannelEntry[] = [];
      // The subject holds at most max_msgs_per_subject messages: walk them from the first.
      let next = 1;
      while (next <= last.seq) {
        const message = await h.jsm.streams.getMessage(this.#subjects.stream, nextOn(subject, next));
        if (message === null) break;
        next = message.seq + 1;
        const entry = decodeEntry(message.data);
        if (entry === undefined || entry.offset <= after || entry.serverTime < oldest) continue;
        following.push(withoutEpoch(entry));
      }
      const entries = following.slice(0, limit);
      const complete =
        following.length === position.offset - after &&
        following[0]?.offset === after + 1 &&
        entries.length === following.length;
      return { position, entries, complete };
    });
  }

  follow(channel: string, listener: (entry: ChannelEntry) => void): Following {
    let stopped = false;
    let stopConsumer: (() => void) | undefined;
    const ready = this.#run(async (h) => {
      const info = await h.jsm.streams.info(this.#subjects.stream);
      const consumer = await h.js.consumers.get(this.#subjects.stream, {
        filter_subjects: this.#subjects.subject(channel),
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: info.state.last_seq + 1,
      });
      const messages = await consumer.consume();
      stopConsumer = () => void messages.stop();
      if (stopped) stopConsumer();
      void (async () => {
        try {
          for await (const message of messages) {
            const entry = decodeEntry(message.data);
            if (entry !== undefined) listener(withoutEpoch(entry));
          }
        } catch (error) {
          if (!stopped) this.#options.onFollowError?.(error);
        }
      })();
    });
    // A follow that failed (NATS away) is reported by the replay that waits for it.
    ready.catch(() => {});
    return {
      ready,
      stop: () => {
        stopped = true;
        stopConsumer?.();
      },
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    const nc = this.#handles?.nc ?? (await this.#connecting?.then((h) => h.nc).catch(() => undefined));
    if (nc !== undefined && !nc.isClosed()) await nc.close();
  }

  async #run<T>(operation: (handles: Handles) => Promise<T>): Promise<T> {
    if (this.#closed) throw new StoreUnavailable('the channel log is closed');
    const handles = this.#handles ?? (await this.#connect());
    try {
      return await operation(handles);
    } catch (error) {
      throw unavailableIfConnection(error);
    }
  }

  /** Connects (reconnecting forever afterwards) and sets up the stream and bucket. */
  #connect(): Promise<Handles> {
    this.#connecting ??= (async () => {
      const nc = await connect({
        servers: [...this.#options.servers],
        name: 'pulse-channels',
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        timeout: this.#timeout,
      });
      try {
        this.#handles = await this.#setUp(nc);
      } catch (error) {
        await nc.close();
        throw error;
      }
      void this.#onReconnect(nc);
      return this.#handles;
    })();
    this.#connecting.catch(() => {
      // NATS away or JetStream not ready at the start: the next call tries again.
      this.#connecting = undefined;
    });
    return this.#connecting.catch((error: unknown) => {
      throw new StoreUnavailable(`NATS (channels): ${(error as Error).message}`);
    });
  }

  /** After each reconnect the stream and bucket are made again if NATS lost them (a new, empty NATS). */
  async #onReconnect(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type !== 'reconnect' || this.#closed) continue;
      try {
        this.#handles = await this.#setUp(nc);
      } catch (error) {
        this.#options.onFollowError?.(error);
      }
    }
  }

  /** Creates (or updates to the budget) the stream, and creates or opens the heads bucket. */
  async #setUp(nc: NatsConnection): Promise<Handles> {
    const { budget, replicas } = this.#options;
    const js = jetstream(nc, { timeout: this.#timeout });
    const jsm = await jetstreamManager(nc, { timeout: this.#timeout });
    const stream = {
      name: this.#subjects.stream,
      subjects: [this.#subjects.subjects],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      max_msgs_per_subject: budget.maxEntries,
      max_age: budget.maxAgeMs * 1_000_000,
      max_bytes: budget.maxBytes,
      num_replicas: replicas,
    };
    const existing = await jsm.streams.info(stream.name).catch(() => undefined);
    if (existing === undefined) await jsm.streams.add(stream).catch(() => jsm.streams.update(stream.name, stream));
    else await jsm.streams.update(stream.name, stream);
    const kvm = new Kvm(js);
    const bucket = this.#subjects.headsBucket;
    // Reads go to the leader (no direct get from a replica). A bucket made by a node with other
    // limits (history_age changed) is used as it is rather than refused.
    const heads = await kvm
      .create(bucket, {
        history: 1,
        replicas,
        storage: StorageType.File,
        ttl: budget.maxAgeMs,
        allow_direct: false,
        timeout: this.#timeout,
      })
      .catch(() => kvm.open(bucket, { timeout: this.#timeout }));
    return { nc, js, jsm, heads };
  }

  /** The subject's last message and its entry, or undefined when the subject is empty. */
  async #last(h: Handles, channel: string): Promise<{ seq: number; entry: StreamedEntry } | undefined> {
    const message: StoredMsg | null = await h.jsm.streams.getMessage(this.#subjects.stream, {
      last_by_subj: this.#subjects.subject(channel),
    });
    if (message === null) return undefined;
    const entry = decodeEntry(message.data);
    if (entry === undefined) throw new StoreUnavailable(`unreadable channel message ${message.seq}`);
    return { seq: message.seq, entry };
  }

  /** The head of an empty subject for a read: retried while other nodes change it. */
  async #headForRead(h: Handles, channel: string): Promise<Head> {
    for (let attempt = 1; attempt <= CAS_ATTEMPTS; attempt++) {
      const head = await this.#emptyHead(h, channel, false);
      if (head !== undefined) return head;
    }
    throw new StoreConflict('a channel head kept changing');
  }

  /**
   * One try at the head of a channel whose subject is empty: made if absent; a
   * `used` one lost its history, so it gets a new epoch. `publishing`: the
   * caller is about to publish under it, so it is marked used. Undefined: another
   * node changed it meanwhile (the caller reads the subject again: it may no
   * longer be empty).
   */
  async #emptyHead(h: Handles, channel: string, publishing: boolean): Promise<Head | undefined> {
    const key = this.#subjects.token(channel);
    const stored = await h.heads.get(key);
    const current = stored?.operation === 'PUT' ? parseHead(stored.string()) : undefined;
    if (current !== undefined && !current.used && !publishing) return current;
    const wanted: Head =
      current === undefined || current.used
        ? { epoch: newEpoch(), used: publishing }
        : { epoch: current.epoch, used: true };
    try {
      if (stored === null || stored.operation !== 'PUT') await h.heads.create(key, JSON.stringify(wanted));
      else await h.heads.update(key, JSON.stringify(wanted), stored.revision);
      return wanted;
    } catch (error) {
      if (isWrongLastSequence(error) || isKeyExists(error)) return undefined;
      throw error;
    }
  }
}

/** KV create of a key another node created first. */
function isKeyExists(error: unknown): boolean {
  return error instanceof Error && /wrong last sequence|key exists/i.test(error.message);
}

function withoutEpoch(entry: StreamedEntry): ChannelEntry {
  const { epoch: _epoch, ...rest } = entry;
  return rest;
}

function parseHead(text: string): Head | undefined {
  try {
    const value = JSON.parse(text) as Partial<Head>;
    return typeof value.epoch === 'string' && typeof value.used === 'boolean'
      ? { epoch: value.epoch, used: value.used }
      : undefined;
  } catch {
    return undefined;
  }
}
