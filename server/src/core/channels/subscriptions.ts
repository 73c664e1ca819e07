import type { FrameOf } from '@pulse/proto';
import type { RouterContext } from '../context.ts';
import { PulseError } from '../errors.ts';
import type { Cancel } from '../ports/scheduler.ts';
import type { SessionOutput } from '../session/output.ts';
import { BULK_RETRY_MS } from '../session/send-queue.ts';
import type { PresenceMember, Subscriber } from './channel.ts';

/** What the subscriptions send through: the session's output, with paced bulk sends. */
export interface ChannelOutput extends SessionOutput {
  /** Sends `bytes` if the bulk half of the send queue holds them; false: offer them again later. */
  offerBulk(bytes: Uint8Array): boolean;
}

/** A subscription catching up: replayed frames not sent yet, then the live ones that came meanwhile. */
interface CatchUp {
  readonly frames: { readonly bytes: Uint8Array; readonly live: boolean; readonly offset: number }[];
  /** Index of the next frame to send. */
  next: number;
  /** Bytes of live frames queued and not sent yet. */
  liveBytes: number;
  /** The replay is still being read from the log: live frames wait. */
  reading: boolean;
}

/**
 * One connection's channels (PROTOCOL.md "Channels"): subscribe with replay and
 * presence, unsubscribe, publish, and leaving them all when the session ends.
 *
 * A subscribe joins the channel first (live publications start queueing), then
 * reads the replay from the channel log: whatever is published while the log
 * is read is either in the replay or queued behind it, never lost, never twice
 * (by offset). Replay is paced by the reader's buffer like the stored backlog
 * (SendQueue.offerBulk), so a long history never closes a subscriber catching
 * up (issue 11). Live publications that arrive meanwhile queue behind the
 * replay, in offset order, up to `send_queue_bytes` (what a live reader's buffer
 * holds); beyond that the reader is a slow consumer like any other.
 */
export class Subscriptions {
  readonly #ctx: RouterContext;
  readonly #subscriber: Subscriber;
  readonly #out: ChannelOutput;
  readonly #onOverflow: () => void;
  readonly #channels = new Set<string>();
  readonly #catchingUp = new Map<string, CatchUp>();
  #retry: Cancel | undefined;

  constructor(
    ctx: RouterContext,
    session: Pick<Subscriber, 'member' | 'transport'>,
    out: ChannelOutput,
    onOverflow: () => void,
  ) {
    this.#ctx = ctx;
    // The registry hears this object (not the session), so publications come with their offsets.
    this.#subscriber = {
      get member() {
        return session.member;
      },
      transport: session.transport,
      deliver: (channel, bytes, ephemeral, offset) => this.deliver(channel, bytes, ephemeral, offset),
    };
    this.#out = out;
    this.#onOverflow = onOverflow;
  }

  async subscribe(frame: FrameOf<'subscribe'>, now: number): Promise<void> {
    // Joins (and the presence events they cause) per account, whatever the connection.
    const retryAfterMs = this.#ctx.budgets.channelJoins.take(this.#subscriber.member.account, now);
    if (retryAfterMs > 0) {
      this.#out.limitHit('channel_joins');
      throw new PulseError('RATE_LIMITED', 'too many subscribes for this account', retryAfterMs);
    }
    if (this.#channels.has(frame.channel)) this.#leave(frame.channel);
    if (this.#channels.size >= this.#ctx.settings.limits.maxChannels) {
      this.#out.limitHit('max_channels');
      throw new PulseError('TOO_MANY_CHANNELS', `at most ${this.#ctx.settings.limits.maxChannels} channels`);
    }
    const presence = frame.presence === true;
    const catchUp: CatchUp = { frames: [], next: 0, liveBytes: 0, reading: true };
    this.#catchingUp.set(frame.channel, catchUp);
    let channel: ReturnType<RouterContext['channels']['join']>;
    try {
      channel = this.#ctx.channels.join(frame.channel, this.#subscriber, {
        presence,
        invisible: frame.invisible === true,
      });
    } catch (error) {
      this.#catchingUp.delete(frame.channel);
      throw error;
    }
    this.#channels.add(frame.channel);
    let replay: Awaited<ReturnType<RouterContext['channels']['replay']>>;
    try {
      replay = await this.#ctx.channels.replay(frame.channel, frame.since, now);
    } catch (error) {
      if (this.#catchingUp.get(frame.channel) === catchUp) this.#leave(frame.channel);
      throw error;
    }
    // The session closed (or left the channel) while the log was read.
    if (this.#catchingUp.get(frame.channel) !== catchUp) return;
    const { position } = replay;
    this.#out.send({
      type: 'subscribed',
      id: frame.id,
      channel: frame.channel,
      epoch: position.epoch,
      offset: position.offset,
      recovered: replay.recovered,
    });
    // Live frames the replay already holds, or from before the subscription point, go.
    const live = catchUp.frames.filter((queued) => queued.offset > position.offset);
    catchUp.frames.length = 0;
    catchUp.liveBytes = 0;
    for (const missed of replay.missed)
      catchUp.frames.push({ bytes: missed.bytes, live: false, offset: missed.offset });
    for (const queued of live) {
      catchUp.frames.push(queued);
      catchUp.liveBytes += queued.bytes.length;
    }
    catchUp.reading = false;
    this.#sendCatchUp();
    if (presence) {
      // A snapshot holds at most maxArrayLength members: more would not decode at a client.
      const members = channel.members().slice(0, this.#ctx.codec.limits.maxArrayLength);
      this.#out.send({ type: 'presence_snapshot', channel: frame.channel, members });
    }
  }

  unsubscribe(frame: FrameOf<'unsubscribe'>): void {
    if (!this.#channels.has(frame.channel)) {
      throw new PulseError('NOT_FOUND', `not subscribed to ${frame.channel}`);
    }
    this.#leave(frame.channel);
    this.#out.send({ type: 'ok', id: frame.id });
  }

  async publish(frame: FrameOf<'publish'>, member: PresenceMember, now: number): Promise<void> {
    const max = this.#ctx.settings.limits.maxMessageSize;
    if (frame.payload.length > max) {
      this.#out.limitHit('message_size');
      throw new PulseError('PAYLOAD_TOO_LARGE', `a payload of ${frame.payload.length} bytes exceeds ${max}`);
    }
    const offset = await this.#ctx.channels.publish(frame.channel, member, frame.payload, now);
    this.#out.send({ type: 'published', id: frame.id, offset });
  }

  /** A channel's frame for this subscriber: live ones wait behind a replay still being sent. */
  deliver(channel: string, bytes: Uint8Array, ephemeral: boolean, offset = 0): void {
    const catchUp = this.#catchingUp.get(channel);
    // Presence while the replay is read: the snapshot that follows `subscribed` already says it.
    if (ephemeral && catchUp?.reading === true) return;
    if (catchUp === undefined || ephemeral) {
      this.#out.sendBytes(bytes, ephemeral);
      return;
    }
    if (catchUp.liveBytes + bytes.length > this.#ctx.settings.limits.sendQueueBytes) {
      this.#out.limitHit('send_queue');
      this.#onOverflow();
      return;
    }
    catchUp.frames.push({ bytes, live: true, offset });
    catchUp.liveBytes += bytes.length;
  }

  /** The session ended: leave every channel. */
  leaveAll(): void {
    for (const channel of this.#channels) this.#ctx.channels.unsubscribe(channel, this.#subscriber);
    this.#channels.clear();
    this.#catchingUp.clear();
    this.#retry?.();
    this.#retry = undefined;
  }

  #leave(channel: string): void {
    this.#ctx.channels.unsubscribe(channel, this.#subscriber);
    this.#channels.delete(channel);
    this.#catchingUp.delete(channel);
  }

  /** Sends what the buffer takes of each replay; a full buffer pauses them until the retry timer. */
  #sendCatchUp(): void {
    for (const [channel, catchUp] of this.#catchingUp) {
      if (catchUp.reading) continue;
      while (catchUp.next < catchUp.frames.length) {
        const frame = catchUp.frames[catchUp.next]!;
        if (!this.#out.offerBulk(frame.bytes)) {
          this.#pause();
          return;
        }
        catchUp.next++;
        if (frame.live) catchUp.liveBytes -= frame.bytes.length;
      }
      this.#catchingUp.delete(channel);
    }
  }

  #pause(): void {
    this.#ctx.metrics.backlogPaused(this.#subscriber.transport, 'replay');
    if (this.#retry !== undefined) return;
    this.#retry = this.#ctx.scheduler.after(BULK_RETRY_MS, () => {
      this.#retry = undefined;
      try {
        this.#sendCatchUp();
      } catch (error) {
        this.#ctx.log.error({ err: error }, 'channel replay failed');
      }
    });
  }
}
