import { jetstream, StorageType } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { FrameCodec, FrameOf } from '@pulse/proto';
import type { ApprovalSubscription, LinkDirectory, LinkRequest } from '../../core/ports/link-directory.ts';
import { StoreUnavailable } from '../../core/store.ts';
import { compareAndSet } from '../storage/nats/compare-and-set.ts';
import { unavailableIfConnection } from '../storage/nats/link.ts';
import { accountToken } from '../storage/nats/names.ts';

export interface NatsLinkDirectoryOptions {
  readonly servers: readonly string[];
  readonly replicas: number;
  /** The bucket's TTL: `limits.link_ttl` (no record outlives its newest link). */
  readonly linkTtlMs: number;
  /** Encodes and validates the frames kept and sent (`link_requested`, `link_approved`). */
  readonly codec: FrameCodec;
  readonly prefix?: string;
  /** An approval heard that is not one (dropped). */
  readonly onMalformed?: () => void;
  readonly onSent?: () => void;
  readonly onReceived?: () => void;
}

/** Link ids are 32 hex digits (requests/devices.ts): a subject token as they are. */
const LINK_ID = /^[0-9a-f]{32}$/;

/**
 * Pending links on NATS (the LinkDirectory port, core/ports/link-directory.ts).
 *
 * KV bucket `pulse_links`, one key per account with pending links (the
 * account's token, as the accounts bucket), value: its live links as encoded
 * `link_requested` frames. Every change is a compare-and-set on the key's
 * revision, so the per-account bound and the proposed device ids hold across
 * nodes. The bucket's TTL is `link_ttl`: a record not written for that long
 * holds only expired links, and goes. Approvals go over NATS core pub/sub to
 * `pulse.links.<linkId>`, which the node holding the new device's connection
 * subscribes to.
 */
export class NatsLinkDirectory implements LinkDirectory {
  readonly #options: NatsLinkDirectoryOptions;
  readonly #prefix: string;
  #opened: Promise<{ nc: NatsConnection; kv: KV }> | undefined;
  #nc: NatsConnection | undefined;
  #closed = false;

  constructor(options: NatsLinkDirectoryOptions) {
    this.#options = options;
    this.#prefix = options.prefix ?? 'pulse';
  }

  async add(
    account: string,
    make: (highestProposed: number) => LinkRequest,
    maxPerAccount: number,
    now: number,
  ): Promise<LinkRequest | undefined> {
    return this.#change(account, (links) => {
      const live = links.filter((l) => l.expiresAt > now);
      if (live.length >= maxPerAccount) return undefined;
      const request = make(Math.max(0, ...live.map((l) => l.deviceId)));
      return { links: [...live, request], result: request };
    });
  }

  async list(account: string, now: number): Promise<LinkRequest[]> {
    const entry = await this.#run(async () => (await this.#open()).kv.get(accountToken(account)));
    if (entry === null || entry.operation !== 'PUT') return [];
    return this.#decode(entry.value).filter((l) => l.expiresAt > now);
  }

  async remove(account: string, linkId: string): Promise<void> {
    await this.#change(account, (links) => {
      const rest = links.filter((l) => l.linkId !== linkId);
      return rest.length === links.length ? undefined : { links: rest, result: undefined };
    });
  }

  awaitApproval(linkId: string, onApproved: (frame: FrameOf<'link_approved'>) => void): ApprovalSubscription {
    let stopped = false;
    let stop = () => {};
    const ready = this.#open().then(({ nc }) => {
      if (stopped) return;
      const subscription = nc.subscribe(this.#subject(linkId), {
        max: 1,
        callback: (error, message) => {
          if (error !== null) return;
          const frame = this.#decodeApproval(message.data);
          if (frame === undefined || frame.linkId !== linkId) {
            this.#options.onMalformed?.();
            return;
          }
          this.#options.onReceived?.();
          onApproved(frame);
        },
      });
      stop = () => subscription.unsubscribe();
      // Once the server answered a PING sent after the SUB, it routes the subject here.
      return nc.flush();
    });
    return {
      ready,
      stop: () => {
        stopped = true;
        stop();
      },
    };
  }

  approve(frame: FrameOf<'link_approved'>): void {
    const nc = this.#nc;
    if (nc === undefined || nc.isClosed()) return;
    nc.publish(this.#subject(frame.linkId), this.#options.codec.encode(frame));
    this.#options.onSent?.();
  }

  async close(): Promise<void> {
    this.#closed = true;
    const opened = await this.#opened?.catch(() => undefined);
    if (opened !== undefined && !opened.nc.isClosed()) await opened.nc.close();
  }

  #subject(linkId: string): string {
    if (!LINK_ID.test(linkId)) throw new Error('not a link id');
    return `${this.#prefix}.links.${linkId}`;
  }

  /** Compare-and-set of an account's record; `change` returning undefined writes nothing. */
  async #change<T>(
    account: string,
    change: (links: LinkRequest[]) => { links: LinkRequest[]; result: T } | undefined,
  ): Promise<T | undefined> {
    return this.#run(async () =>
      compareAndSet((await this.#open()).kv, accountToken(account), (current) => {
        const next = change(current === undefined ? [] : this.#decode(current));
        return next === undefined ? undefined : { value: this.#encode(next.links), result: next.result };
      }),
    );
  }

  #encode(links: readonly LinkRequest[]): Uint8Array {
    const frames = links.map((l) => Buffer.from(this.#options.codec.encode({ type: 'link_requested', ...l })));
    return new TextEncoder().encode(JSON.stringify(frames.map((f) => f.toString('base64'))));
  }

  /** The links in a record; what does not decode (another version wrote it) is left out. */
  #decode(bytes: Uint8Array): LinkRequest[] {
    let value: unknown;
    try {
      value = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      return [];
    }
    if (!Array.isArray(value)) return [];
    const links: LinkRequest[] = [];
    for (const item of value) {
      if (typeof item !== 'string') continue;
      try {
        const frame = this.#options.codec.decode(new Uint8Array(Buffer.from(item, 'base64')));
        if (frame.type !== 'link_requested') continue;
        const { type: _, ...request } = frame;
        links.push(request);
      } catch {}
    }
    return links;
  }

  #decodeApproval(bytes: Uint8Array): FrameOf<'link_approved'> | undefined {
    try {
      const frame = this.#options.codec.decode(bytes);
      return frame.type === 'link_approved' ? frame : undefined;
    } catch {
      return undefined;
    }
  }

  async #run<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw unavailableIfConnection(error);
    }
  }

  #open(): Promise<{ nc: NatsConnection; kv: KV }> {
    if (this.#closed) return Promise.reject(new StoreUnavailable('closed'));
    this.#opened ??= (async () => {
      const nc = await connect({
        servers: [...this.#options.servers],
        name: 'pulse-links',
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
      });
      this.#nc = nc;
      const kvm = new Kvm(jetstream(nc));
      const bucket = `${this.#prefix}_links`;
      const options = { history: 1, replicas: this.#options.replicas, ttl: this.#options.linkTtlMs };
      // A bucket made by a node with another link_ttl is used as it is (each link carries its own expiry).
      const kv = await kvm
        .create(bucket, { ...options, storage: StorageType.File, allow_direct: false })
        .catch(() => kvm.open(bucket))
        .catch(async (error: unknown) => {
          await nc.close();
          throw new StoreUnavailable(`NATS: ${(error as Error).message}`);
        });
      return { nc, kv };
    })();
    this.#opened.catch(() => {
      this.#opened = undefined;
    });
    return this.#opened;
  }
}
