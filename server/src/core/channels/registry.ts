import type { FrameCodec } from '@pulse/proto';
import type { TransportKind } from '../connection.ts';
import { PulseError } from '../errors.ts';
import type { ChannelEntry, ChannelLog, ChannelPosition } from '../ports/channel-log.ts';
import type { PresenceShare, SharedMember } from '../ports/presence-share.ts';
import { authorizeChannel } from './acl.ts';
import { Channel, type PresenceMember, type Subscriber } from './channel.ts';

/** A replay: where the channel stands, whether the gap since the client's position could be filled, and with what. */
export interface Replay {
  readonly position: ChannelPosition;
  readonly recovered: boolean;
  /** Encoded `channel_message` frames after the requested offset, oldest first. */
  readonly missed: readonly { readonly offset: number; readonly bytes: Uint8Array }[];
}

/** The registry's bounds (ServerLimits of the same names) and its log. */
export interface RegistryOptions {
  readonly log: ChannelLog;
  /** Publications replayed at most (history_size: the log keeps no more per channel). */
  readonly historySize: number;
  readonly maxChannelsTotal: number;
  /** Channels with subscribers here at once that one account created (default: no bound but the total). */
  readonly maxChannelsPerAccount?: number;
  /** Presence across nodes (cluster mode); without it presence is this node's subscribers. */
  readonly presence?: PresenceShare;
}

/**
 * All channels with subscribers on this node: subscribe/unsubscribe/publish
 * with the channel rules, replay from the channel log and presence events.
 *
 * History is the log's (ports/channel-log.ts): SQLite on one node, JetStream in
 * cluster mode, so it survives restarts and every node replays the same
 * offsets. Publications go to the log, and each channel with subscribers here
 * follows the log: a publication reaches them in offset order whichever node
 * took it. The log keeps history within its budget (count and age per channel,
 * bytes overall and per account), so no account takes the others' history
 * (issue 11); an account creates at most `maxChannelsPerAccount` live channels.
 * Presence: invisible subscribers are never announced nor listed; on
 * `user:<account>` channels only the owner's devices are, so a follower learns
 * the owner's presence and nothing of the other followers.
 */
export class ChannelRegistry {
  readonly #codec: FrameCodec;
  readonly #log: ChannelLog;
  readonly #historySize: number;
  readonly #maxChannelsTotal: number;
  readonly #maxPerAccount: number;
  readonly #presence: PresenceShare | undefined;
  readonly #channels = new Map<string, Channel>();
  /** Live channels by creating account. */
  readonly #created = new Map<string, number>();
  /**
   * Called when a channel gains its first or loses its last subscriber on a
   * transport (`delta` ±1), and with `transport` 'all' for any transport.
   */
  onActiveChange: (transport: TransportKind | 'all', delta: number) => void = () => {};

  constructor(codec: FrameCodec, options: RegistryOptions) {
    this.#codec = codec;
    this.#log = options.log;
    this.#historySize = options.historySize;
    this.#maxChannelsTotal = options.maxChannelsTotal;
    this.#maxPerAccount = options.maxChannelsPerAccount ?? Number.POSITIVE_INFINITY;
    this.#presence = options.presence;
  }

  /** Channels with at least one subscriber here. */
  get active(): number {
    return this.#channels.size;
  }

  /**
   * Adds a subscriber (announcing it to presence subscribers); from now on it
   * hears every publication, with its offset. Replay is asked separately
   * (`replay`), so nothing published meanwhile is missed.
   */
  join(name: string, subscriber: Subscriber, options: { presence: boolean; invisible?: boolean }): Channel {
    const { account } = subscriber.member;
    authorizeChannel(name, account, 'subscribe');
    // On user:<owner> channels followers are never announced: they see the owner's devices, not each other.
    const invisible = options.invisible === true || !announcedOn(name, account);
    const channel = this.#getOrCreate(name, account);
    // Existing presence subscribers hear about the newcomer before it joins the set.
    if (!invisible) {
      channel.announce(this.#codec.encode({ type: 'presence_join', channel: name, member: subscriber.member }));
    }
    if (channel.addSubscriber(subscriber, { presence: options.presence, invisible })) {
      this.onActiveChange(subscriber.transport, 1);
    }
    if (!invisible) this.#presence?.set(name, channel.localMembers());
    return channel;
  }

  unsubscribe(name: string, subscriber: Subscriber): boolean {
    const channel = this.#channels.get(name);
    const options = channel?.subscribers.get(subscriber);
    const lastOnTransport = channel?.removeSubscriber(subscriber);
    if (channel === undefined || lastOnTransport === undefined) return false;
    if (lastOnTransport) this.onActiveChange(subscriber.transport, -1);
    if (channel.subscribers.size === 0) this.#drop(channel);
    if (options?.invisible !== true) {
      channel.announce(this.#codec.encode({ type: 'presence_leave', channel: name, member: subscriber.member }));
      this.#presence?.set(name, channel.localMembers());
    }
    return true;
  }

  /**
   * The channel's position and what followed `since`: recovered=false when the
   * epoch differs (history lost) or the log no longer holds every publication
   * after it (trimmed by the budget, or never kept). Without `since` nothing was
   * asked for: recovered=true.
   */
  async replay(name: string, since: { epoch: string; offset: number } | undefined, now: number): Promise<Replay> {
    // Read once the channel's live publications are sure to come: none falls between the replay and them.
    // The other nodes' members are known by then too, for the presence snapshot that follows.
    const channel = this.#channels.get(name);
    await Promise.all([channel?.following?.ready, channel?.watching?.ready]);
    if (since === undefined) return { position: await this.#log.position(name), recovered: true, missed: [] };
    const read = await this.#log.read(name, since.offset, this.#historySize, now);
    const { position } = read;
    if (since.epoch !== position.epoch || since.offset > position.offset || !read.complete) {
      return { position, recovered: false, missed: [] };
    }
    return {
      position,
      recovered: true,
      missed: read.entries.map((entry) => ({ offset: entry.offset, bytes: this.#encode(name, entry) })),
    };
  }

  /** Publishes an opaque payload (kept as sent); resolves with its offset once the log holds it. */
  async publish(name: string, from: Subscriber['member'], payload: Uint8Array, now: number): Promise<number> {
    authorizeChannel(name, from.account, 'publish');
    const position = await this.#log.append(name, {
      account: from.account,
      deviceId: from.deviceId,
      serverTime: now,
      payload,
    });
    return position.offset;
  }

  #encode(name: string, entry: ChannelEntry): Uint8Array {
    return this.#codec.encode({
      type: 'channel_message',
      channel: name,
      offset: entry.offset,
      from: { account: entry.account, deviceId: entry.deviceId },
      serverTime: entry.serverTime,
      payload: entry.payload,
    });
  }

  /** The other nodes' members changed: presence subscribers here hear who joined and who left. */
  #remoteMembers(channel: Channel, remote: readonly SharedMember[]): void {
    const key = (m: SharedMember) => `${m.deviceId}:${m.connectedAt}:${m.account}`;
    const before = new Map(channel.remote.map((m) => [key(m), m]));
    const after = new Map(remote.map((m) => [key(m), m]));
    channel.remote = [...after.values()];
    for (const [k, member] of after) {
      if (!before.has(k)) {
        channel.announce(this.#codec.encode({ type: 'presence_join', channel: channel.name, member }));
      }
    }
    for (const [k, member] of before) {
      if (!after.has(k)) {
        channel.announce(this.#codec.encode({ type: 'presence_leave', channel: channel.name, member }));
      }
    }
  }

  #getOrCreate(name: string, account: string): Channel {
    const channel = this.#channels.get(name);
    if (channel !== undefined) return channel;
    if (this.#channels.size >= this.#maxChannelsTotal) {
      throw new PulseError('TOO_MANY_CHANNELS', 'the server holds its maximum number of channels');
    }
    const created = this.#created.get(account) ?? 0;
    if (created >= this.#maxPerAccount) {
      throw new PulseError('TOO_MANY_CHANNELS', `${account} created ${created} channels that are still alive`);
    }
    const made = new Channel(name, account);
    // The frame is encoded once per publication for every subscriber here.
    made.following = this.#log.follow(name, (entry) => made.fanOut(entry.offset, this.#encode(name, entry)));
    made.watching = this.#presence?.watch(name, (remote) => this.#remoteMembers(made, remote));
    this.#channels.set(name, made);
    this.#created.set(account, created + 1);
    this.onActiveChange('all', 1);
    return made;
  }

  /** The last subscriber left: stop following, and its creator may create another. */
  #drop(channel: Channel): void {
    channel.following?.stop();
    channel.following = undefined;
    channel.watching?.stop();
    channel.watching = undefined;
    this.#channels.delete(channel.name);
    const created = (this.#created.get(channel.creator) ?? 1) - 1;
    if (created > 0) this.#created.set(channel.creator, created);
    else this.#created.delete(channel.creator);
    this.onActiveChange('all', -1);
  }
}

/** Whether `account`'s subscription is announced: on `user:<owner>` channels only the owner's devices are. */
function announcedOn(channel: string, account: string): boolean {
  const first = channel.split('/', 1)[0]!;
  return !first.startsWith('user:') || first.slice('user:'.length) === account;
}

export type { PresenceMember };
