import type { FrameOf } from '@pulse/proto';
import type { HandshakeSession, PulseConnection, RequestFrame } from './connection/connection.ts';
import type { Emit } from './events.ts';

const PRESENCE_PREFIX = 'user:';

/**
 * An account's presence channel: its devices subscribe with presence, so
 * whoever follows the channel sees them come and go (server/README.md "Channel
 * rules": any authenticated device may subscribe to `user:<account>`, only that
 * account's devices publish on it).
 * A channel name, not a conversation id.
 */
export function presenceChannel(account: string): string {
  return `${PRESENCE_PREFIX}${account}`;
}

/** The account whose presence `channel` carries; undefined for any other channel. */
export function presenceAccount(channel: string): string | undefined {
  return channel.startsWith(PRESENCE_PREFIX) ? channel.slice(PRESENCE_PREFIX.length) : undefined;
}

export interface PresenceDeps {
  readonly connection: PulseConnection;
  readonly emit: Emit;
}

/**
 * Channel subscriptions (presence included): which channels this client follows,
 * the last offset seen on each so a reconnect can resume, and who is online.
 */
export class Channels {
  readonly #connection: PulseConnection;
  readonly #emit: Emit;
  readonly #presence = new Map<string, Set<number>>();
  readonly #watched = new Set<string>();
  /** Subscribed channels and the last {epoch, offset} seen on each (undefined until the first answer). */
  readonly #channels = new Map<string, { epoch: string; offset: number } | undefined>();
  /** Channels subscribed with presence (the presence channels of this account and watched contacts). */
  readonly #presenceChannels = new Set<string>();

  constructor(deps: PresenceDeps) {
    this.#connection = deps.connection;
    this.#emit = deps.emit;
  }

  isOnline(account: string): boolean {
    return (this.#presence.get(account)?.size ?? 0) > 0;
  }

  /**
   * After (re)authentication: adds the presence channels (this account's and watched
   * contacts') when `presence` is on, then resubscribes everything.
   */
  async resume(session: HandshakeSession, account: string, presence: boolean): Promise<void> {
    if (presence) {
      for (const channel of [account, ...this.#watched].map(presenceChannel)) {
        this.#channels.set(channel, this.#channels.get(channel));
        this.#presenceChannels.add(channel);
      }
    }
    // Resume channels from the last offset seen (PROTOCOL.md "Channels").
    for (const channel of this.#channels.keys()) await this.#subscribe(channel, session);
  }

  /** Follows `account`'s presence (`presence` events). */
  async watchPresence(account: string, connected: boolean): Promise<void> {
    const channel = presenceChannel(account);
    if (this.#watched.has(account) && this.#channels.has(channel)) return;
    this.#watched.add(account);
    this.#presenceChannels.add(channel);
    if (connected) await this.#subscribe(channel);
  }

  /**
   * Subscribes; with `since` (a position this client was given, e.g. the point an
   * encrypted channel's member was added) the server replays what followed it.
   */
  async subscribe(channel: string, since?: { epoch: string; offset: number }): Promise<void> {
    if (this.#channels.has(channel)) return;
    this.#channels.set(channel, since);
    try {
      await this.#subscribe(channel);
    } catch (error) {
      this.#channels.delete(channel);
      throw error;
    }
  }

  /** The last {epoch, offset} seen on a subscribed channel (undefined before its first answer). */
  position(channel: string): { epoch: string; offset: number } | undefined {
    return this.#channels.get(channel);
  }

  async unsubscribe(channel: string): Promise<void> {
    if (!this.#channels.delete(channel)) return;
    await this.#connection.request({ type: 'unsubscribe', channel });
  }

  async publish(channel: string, payload: Uint8Array): Promise<number> {
    return (await this.#connection.request({ type: 'publish', channel, payload })).offset;
  }

  onPresence(frame: FrameOf<'presence_snapshot' | 'presence_join' | 'presence_leave'>): void {
    const account = presenceAccount(frame.channel);
    if (account === undefined) return;
    let devices: Set<number>;
    if (frame.type === 'presence_snapshot') {
      devices = new Set(frame.members.filter((m) => m.account === account).map((m) => m.deviceId));
    } else {
      if (frame.member.account !== account) return;
      devices = this.#presence.get(account) ?? new Set<number>();
      if (frame.type === 'presence_join') devices.add(frame.member.deviceId);
      else devices.delete(frame.member.deviceId);
    }
    this.#presence.set(account, devices);
    this.#emit('presence', { account, online: devices.size > 0, devices: [...devices] });
  }

  onChannelMessage(frame: FrameOf<'channel_message'>): void {
    const seen = this.#channels.get(frame.channel);
    if (seen === undefined || frame.offset <= seen.offset) return; // not subscribed, or already seen
    this.#channels.set(frame.channel, { epoch: seen.epoch, offset: frame.offset });
    this.#emit('channel', {
      channel: frame.channel,
      offset: frame.offset,
      from: frame.from,
      serverTime: frame.serverTime,
      payload: frame.payload,
    });
  }

  /**
   * (Re)subscribes from the last offset seen: when the server still holds what
   * followed, it replays it after `subscribed` and the offset advances as those
   * messages arrive; otherwise `channel_reset` tells the caller history was lost.
   */
  async #subscribe(channel: string, session?: HandshakeSession): Promise<void> {
    const since = this.#channels.get(channel);
    const frame: RequestFrame<'subscribe'> = {
      type: 'subscribe',
      channel,
      presence: this.#presenceChannels.has(channel),
      ...(since === undefined ? {} : { since }),
    };
    const answer = session !== undefined ? await session.request(frame) : await this.#connection.request(frame);
    const resumed = since !== undefined && answer.recovered && since.epoch === answer.epoch;
    this.#channels.set(channel, resumed ? since : { epoch: answer.epoch, offset: answer.offset });
    if (since !== undefined && !resumed) this.#emit('channel_reset', { channel });
  }
}
