import {
  type JetStreamClient,
  JetStreamError,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import {
  ClosedConnectionError,
  ConnectionError,
  connect,
  DrainingConnectionError,
  type NatsConnection,
  NoRespondersError,
  RequestError,
  TimeoutError,
} from '@nats-io/transport-node';
import { StoreUnavailable } from '../../../core/store.ts';
import { NatsNames } from './names.ts';

export interface NatsStoreOptions {
  /** `nats://host:port` URLs of one NATS cluster (`[cluster] nats`). */
  readonly servers: readonly string[];
  /** Names buckets, stream and subjects (default `pulse`): deployments sharing a NATS keep apart. */
  readonly prefix?: string;
  /** Copies of the stream and buckets: 1 on a single NATS server, 3 on a production cluster (acks after a quorum). */
  readonly replicas?: number;
  /** How long one NATS request may take before the store reports UNAVAILABLE (default 2 s). */
  readonly requestTimeoutMs?: number;
  /** Told whenever the store becomes available or unavailable (the node logs it). */
  readonly onAvailability?: (available: boolean, detail: string) => void;
}

/** What the store works with once NATS is reachable and set up. */
export interface NatsHandles {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly accounts: KV;
  readonly preKeys: KV;
}

export interface NatsHealth {
  readonly available: boolean;
  readonly detail: string;
}

const DEFAULT_TIMEOUT_MS = 2_000;
/** How soon setting up the stream and buckets is tried again after it failed (JetStream not ready yet). */
const SETUP_RETRY_MS = 500;

/**
 * The store's connection to NATS: connects (and reconnects, forever) to the
 * configured servers, creates the stream and KV buckets it needs on each
 * (re)connect, and knows whether NATS can be used right now. While it cannot,
 * every store call fails at once with StoreUnavailable (the client hears
 * UNAVAILABLE) instead of queueing writes it could not confirm.
 */
export class NatsLink {
  readonly names: NatsNames;
  readonly #options: NatsStoreOptions;
  #handles: NatsHandles | undefined;
  #available = false;
  #detail = 'connecting to NATS';
  #closed = false;
  #connection: Promise<NatsConnection> | undefined;

  constructor(options: NatsStoreOptions) {
    if (options.servers.length === 0) throw new Error('cluster mode needs at least one NATS URL');
    this.names = new NatsNames(options.prefix ?? 'pulse');
    this.#options = options;
  }

  /** Starts connecting; resolves once NATS is reachable and set up the first time. */
  open(): Promise<void> {
    this.#connection ??= connect({
      servers: [...this.#options.servers],
      name: 'pulse',
      waitOnFirstConnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      pingInterval: 2_000,
      maxPingOut: 2,
      timeout: this.#timeout,
    });
    return this.#connection.then(
      async (nc) => {
        if (this.#closed) return;
        void this.#watch(nc);
        await this.#setUp(nc);
      },
      (error: unknown) => {
        // Not a server that is down (that is retried forever) but a configuration it refuses.
        this.#set(false, `cannot connect to NATS: ${(error as Error).message}`);
        throw error;
      },
    );
  }

  get #timeout(): number {
    return this.#options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  health(): NatsHealth {
    return { available: this.#available, detail: this.#detail };
  }

  /**
   * Runs `operation` against NATS: at once StoreUnavailable if NATS cannot be
   * used now, and a lost connection or a request that timed out becomes
   * StoreUnavailable too. JetStream refusals (wrong last sequence...) pass through.
   */
  async run<T>(operation: (handles: NatsHandles) => Promise<T>): Promise<T> {
    const handles = this.#handles;
    if (!this.#available || handles === undefined) throw new StoreUnavailable(this.#detail);
    try {
      return await operation(handles);
    } catch (error) {
      throw unavailableIfConnection(error);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#set(false, 'closed');
    const nc = this.#handles?.nc;
    if (nc !== undefined && !nc.isClosed()) await nc.close();
    else if (this.#connection !== undefined) {
      // Still connecting: close whatever connection comes.
      void this.#connection.then((late) => late.close()).catch(() => {});
    }
  }

  async #watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (this.#closed) return;
      if (status.type === 'disconnect') this.#set(false, 'disconnected from NATS, reconnecting');
      else if (status.type === 'reconnect') void this.#setUp(nc);
    }
    this.#set(false, 'the NATS connection is closed');
  }

  /** Creates (or finds) the stream and buckets, then marks the store available; retries while JetStream refuses. */
  async #setUp(nc: NatsConnection): Promise<void> {
    const replicas = this.#options.replicas ?? 1;
    const { names } = this;
    while (!this.#closed && !nc.isClosed()) {
      try {
        const js = jetstream(nc, { timeout: this.#timeout });
        const jsm = await jetstreamManager(nc, { timeout: this.#timeout });
        const existing = await jsm.streams.info(names.envelopeStream).catch(() => undefined);
        if (existing === undefined) {
          await jsm.streams.add({
            name: names.envelopeStream,
            subjects: [names.envelopeSubjects],
            storage: StorageType.File,
            retention: RetentionPolicy.Limits,
            num_replicas: replicas,
          });
        }
        const kvm = new Kvm(js);
        // Reads go to the stream leader (no direct get from a replica): a read sees every acknowledged write.
        const bucket = { history: 1, replicas, storage: StorageType.File, allow_direct: false, timeout: this.#timeout };
        const accounts = await kvm.create(names.accountsBucket, bucket);
        const preKeys = await kvm.create(names.preKeysBucket, bucket);
        this.#handles = { nc, js, jsm, accounts, preKeys };
        this.#set(true, 'connected to NATS');
        return;
      } catch (error) {
        this.#set(false, `NATS JetStream not ready: ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, SETUP_RETRY_MS));
      }
    }
  }

  #set(available: boolean, detail: string): void {
    const changed = available !== this.#available;
    this.#available = available;
    this.#detail = detail;
    if (changed) this.#options.onAvailability?.(available, detail);
  }
}

/** NATS connection faults (not JetStream's answers) mean the store cannot be reached. */
export function unavailableIfConnection(error: unknown): unknown {
  const connectionFault =
    error instanceof TimeoutError ||
    error instanceof NoRespondersError ||
    error instanceof ClosedConnectionError ||
    error instanceof DrainingConnectionError ||
    error instanceof ConnectionError ||
    error instanceof RequestError ||
    // JetStream's own answers (JetStreamApiError: wrong last sequence...) are not among these.
    error instanceof JetStreamError;
  return connectionFault ? new StoreUnavailable(`NATS: ${(error as Error).message}`) : error;
}
