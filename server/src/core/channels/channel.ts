import type { TransportKind } from '../connection.ts';
import type { Following } from '../ports/channel-log.ts';

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
  /**
   * Queues encoded bytes of `channel`; `ephemeral` ones (presence) may be
   * dropped by a slow consumer. A publication comes with its `offset`.
   */
  deliver(channel: string, bytes: Uint8Array, ephemeral: boolean, offset?: number): void;
}

/** How a subscriber asked to be subscribed. */
export interface SubscriberOptions {
  /** Hears presence events (snapshot, joins, leaves). */
  readonly presence: boolean;
  /** Is never announced nor listed in snapshots (PROTOCOL.md "Presence"). */
  readonly invisible: boolean;
}

/**
 * One channel as this node sees it: its local subscribers (with their options)
 * while it has any. Its history is the channel log's (ports/channel-log.ts);
 * the channel follows the log while it has subscribers, so publications made
 * on any node reach them.
 */
export class Channel {
  readonly name: string;
  /** The account whose subscribe created the channel here (its per-account count). */
  readonly creator: string;
  readonly subscribers = new Map<Subscriber, SubscriberOptions>();
  readonly #perTransport = new Map<TransportKind, number>();
  /** Its following of the log (set while the channel has subscribers). */
  following: Following | undefined;
  /** Its watch of the other nodes' members (cluster mode). */
  watching: Following | undefined;
  /** The members the other nodes show (cluster mode), as last heard. */
  remote: readonly PresenceMember[] = [];

  constructor(name: string, creator: string) {
    this.name = name;
    this.creator = creator;
  }

  /** Adds a subscriber; true when it is the first one on its transport. */
  addSubscriber(subscriber: Subscriber, options: SubscriberOptions): boolean {
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

  /** Sends the same encoded publication to every subscriber. */
  fanOut(offset: number, bytes: Uint8Array): void {
    for (const subscriber of this.subscribers.keys()) subscriber.deliver(this.name, bytes, false, offset);
  }

  /** The members others may see on this node: invisible subscribers are never listed. */
  localMembers(): PresenceMember[] {
    const visible: PresenceMember[] = [];
    for (const [subscriber, options] of this.subscribers) if (!options.invisible) visible.push(subscriber.member);
    return visible;
  }

  /** The members others may see, on every node. */
  members(): PresenceMember[] {
    return this.remote.length === 0 ? this.localMembers() : [...this.localMembers(), ...this.remote];
  }

  /** Sends presence bytes (ephemeral) to subscribers that asked for presence. */
  announce(bytes: Uint8Array): void {
    for (const [subscriber, options] of this.subscribers) {
      if (options.presence) subscriber.deliver(this.name, bytes, true);
    }
  }
}
