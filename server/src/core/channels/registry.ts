import type { FrameCodec } from '@pulse/proto';
import type { TransportKind } from '../connection.ts';
import { PulseError } from '../errors.ts';
import { type RandomSource, randomHex } from '../ports/random.ts';
import { authorizeChannel } from './acl.ts';
import { Channel, type Replay, type Subscriber } from './channel.ts';

export interface SubscribeResult extends Replay {
  readonly channel: Channel;
}

/**
 * All channels of this server: subscribe/unsubscribe/publish with the channel
 * rules, history replay and presence events. A channel without subscribers keeps
 * its history until the channel count exceeds `maxChannelsTotal`, then the oldest
 * idle ones are forgotten.
 */
export class ChannelRegistry {
  readonly #codec: FrameCodec;
  readonly #historySize: number;
  readonly #maxChannelsTotal: number;
  readonly #historyBudget: number;
  readonly #random: RandomSource;
  readonly #channels = new Map<string, Channel>();
  #historyBytes = 0;
  #active = 0;
  /**
   * Called when a channel gains its first or loses its last subscriber on a
   * transport (`delta` ±1), and with `transport` 'all' for any transport.
   */
  onActiveChange: (transport: TransportKind | 'all', delta: number) => void = () => {};

  constructor(
    codec: FrameCodec,
    options: { historySize: number; maxChannelsTotal: number; historyBytes: number; random: RandomSource },
  ) {
    this.#codec = codec;
    this.#random = options.random;
    this.#historySize = options.historySize;
    this.#maxChannelsTotal = options.maxChannelsTotal;
    this.#historyBudget = options.historyBytes;
  }

  /** Bytes of history held by all channels (bounded by `history_bytes`). */
  get historyBytes(): number {
    return this.#historyBytes;
  }

  get active(): number {
    return this.#active;
  }

  subscribe(
    name: string,
    subscriber: Subscriber,
    options: { presence: boolean; since: { epoch: string; offset: number } | undefined },
  ): SubscribeResult {
    authorizeChannel(name, subscriber.member.account, 'subscribe');
    const channel = this.#getOrCreate(name);
    const replay = channel.replay(options.since);
    // Existing presence subscribers hear about the newcomer before it joins the set.
    channel.announce(this.#codec.encode({ type: 'presence_join', channel: name, member: subscriber.member }));
    const firstAny = channel.subscribers.size === 0;
    if (channel.addSubscriber(subscriber, { presence: options.presence })) {
      this.onActiveChange(subscriber.transport, 1);
    }
    if (firstAny) this.#setActive(this.#active + 1);
    return { channel, ...replay };
  }

  unsubscribe(name: string, subscriber: Subscriber): boolean {
    const channel = this.#channels.get(name);
    const lastOnTransport = channel?.removeSubscriber(subscriber);
    if (channel === undefined || lastOnTransport === undefined) return false;
    if (lastOnTransport) this.onActiveChange(subscriber.transport, -1);
    if (channel.subscribers.size === 0) this.#setActive(this.#active - 1);
    channel.announce(this.#codec.encode({ type: 'presence_leave', channel: name, member: subscriber.member }));
    return true;
  }

  /** Publishes an opaque payload; returns its offset. The frame is encoded once for all subscribers. */
  publish(name: string, from: Subscriber['member'], payload: Uint8Array, now: number): number {
    authorizeChannel(name, from.account, 'publish');
    const channel = this.#getOrCreate(name);
    const offset = channel.nextOffset();
    const bytes = this.#codec.encode({
      type: 'channel_message',
      channel: name,
      offset,
      from: { account: from.account, deviceId: from.deviceId },
      serverTime: now,
      payload,
    });
    const before = channel.historyBytes;
    channel.fanOut(offset, bytes);
    this.#historyBytes += channel.historyBytes - before;
    this.#enforceHistoryBudget(channel);
    return offset;
  }

  /**
   * Keeps all histories within `history_bytes`: first forget idle channels (no
   * subscribers), oldest first; then trim the publishing channel's own history.
   */
  #enforceHistoryBudget(current: Channel): void {
    if (this.#historyBytes <= this.#historyBudget) return;
    for (const [name, channel] of this.#channels) {
      if (this.#historyBytes <= this.#historyBudget) return;
      if (channel.subscribers.size === 0 && channel !== current) {
        this.#historyBytes -= channel.historyBytes;
        this.#channels.delete(name);
      }
    }
    while (this.#historyBytes > this.#historyBudget) {
      const before = current.historyBytes;
      if (!current.dropOldest()) return;
      this.#historyBytes -= before - current.historyBytes;
    }
  }

  #getOrCreate(name: string): Channel {
    let channel = this.#channels.get(name);
    if (channel === undefined) {
      if (this.#channels.size >= this.#maxChannelsTotal) this.#evictIdle();
      if (this.#channels.size >= this.#maxChannelsTotal) {
        throw new PulseError('TOO_MANY_CHANNELS', 'the server holds its maximum number of channels');
      }
      // A fresh random epoch per channel instance: offsets from before a restart are detected.
      channel = new Channel(name, this.#historySize, randomHex(this.#random, 8));
      this.#channels.set(name, channel);
    }
    return channel;
  }

  #evictIdle(): void {
    for (const [name, channel] of this.#channels) {
      if (channel.subscribers.size === 0) {
        this.#historyBytes -= channel.historyBytes;
        this.#channels.delete(name);
        return;
      }
    }
  }

  #setActive(active: number): void {
    this.onActiveChange('all', active - this.#active);
    this.#active = active;
  }
}
