import type { TransportKind } from '../connection.ts';

export interface PresenceMember {
  readonly account: string;
  readonly deviceId: number;
  readonly connectedAt: number;
}

/** What the channel needs from a subscriber: a place to put encoded frames. */
export interface Subscriber {
  readonly member: PresenceMember;
  /** The subscriber's transport, for the per-transport active-channel gauge. */
  readonly transport: TransportKind;
  /** Queues encoded bytes; `ephemeral` ones may be dropped by a slow consumer. */
  deliver(bytes: Uint8Array, ephemeral: boolean): void;
}

export interface Replay {
  readonly recovered: boolean;
  /** Encoded `channel_message` frames after the requested offset, oldest first. */
  readonly missed: readonly Uint8Array[];
}

/**
 * One channel: its subscribers (with whether they want presence) and a bounded
 * history of encoded publications for replay. Offsets count publications from 1
 * within an `epoch`; a new epoch (fresh random id) starts whenever the channel is
 * created, e.g. after a server restart, so a stale `{epoch, offset}` is detected.
 */
export class Channel {
  readonly name: string;
  readonly epoch: string;
  readonly #historySize: number;
  #offset = 0;
  #historyBytes = 0;
  readonly #history: { offset: number; bytes: Uint8Array }[] = [];
  readonly subscribers = new Map<Subscriber, { presence: boolean }>();
  readonly #perTransport = new Map<TransportKind, number>();

  /** Adds a subscriber; true when it is the first one on its transport. */
  addSubscriber(subscriber: Subscriber, options: { presence: boolean }): boolean {
    this.subscribers.set(subscriber, options);
    const count = (this.#perTransport.get(subscriber.transport) ?? 0) + 1;
    this.#perTransport.set(subscriber.transport, count);
    return count === 1;
  }

  /** Removes a subscriber: undefined if it was not one, else whether it was the last on its transport. */
  removeSubscriber(subscriber: Subscriber): boolean | undefined {
    if (!this.subscribers.delete(subscriber)) return undefined;
    const count = (this.#perTransport.get(subscriber.transport) ?? 1) - 1;
    if (count === 0) this.#perTransport.delete(subscriber.transport);
    else this.#perTransport.set(subscriber.transport, count);
    return count === 0;
  }

  constructor(name: string, historySize: number, epoch: string) {
    this.name = name;
    this.epoch = epoch;
    this.#historySize = historySize;
  }

  /** The latest offset (0 before the first publication). */
  get offset(): number {
    return this.#offset;
  }

  /** Allocates the next offset for a publication. */
  nextOffset(): number {
    return ++this.#offset;
  }

  /** Bytes of encoded publications held for replay. */
  get historyBytes(): number {
    return this.#historyBytes;
  }

  /** Records an encoded publication and sends the same bytes to every subscriber. */
  fanOut(offset: number, bytes: Uint8Array): void {
    this.#history.push({ offset, bytes });
    this.#historyBytes += bytes.length;
    if (this.#history.length > this.#historySize) this.dropOldest();
    for (const subscriber of this.subscribers.keys()) subscriber.deliver(bytes, false);
  }

  /** Forgets the oldest publication (replay from before it reports recovered=false). */
  dropOldest(): boolean {
    const dropped = this.#history.shift();
    if (dropped === undefined) return false;
    this.#historyBytes -= dropped.bytes.length;
    return true;
  }

  /** Publications after `since`, or recovered=false when the history cannot fill the gap. */
  replay(since: { epoch: string; offset: number } | undefined): Replay {
    if (since === undefined) return { recovered: true, missed: [] };
    if (since.epoch !== this.epoch || since.offset > this.#offset) return { recovered: false, missed: [] };
    if (since.offset === this.#offset) return { recovered: true, missed: [] };
    const oldest = this.#history[0]?.offset ?? this.#offset + 1;
    if (since.offset + 1 < oldest) return { recovered: false, missed: [] };
    return {
      recovered: true,
      missed: this.#history.filter((entry) => entry.offset > since.offset).map((entry) => entry.bytes),
    };
  }

  members(): PresenceMember[] {
    return [...this.subscribers.keys()].map((s) => s.member);
  }

  /** Sends presence bytes (ephemeral) to subscribers that asked for presence. */
  announce(bytes: Uint8Array): void {
    for (const [subscriber, options] of this.subscribers) if (options.presence) subscriber.deliver(bytes, true);
  }
}
