import type { FrameOf } from '@pulse/proto';
import type { RouterContext } from '../context.ts';
import { PulseError } from '../errors.ts';
import type { SessionOutput } from '../session/output.ts';
import type { PresenceMember, Subscriber } from './channel.ts';

/**
 * One connection's channels (PROTOCOL.md "Channels"): subscribe with replay and
 * presence, unsubscribe, publish, and leaving them all when the session ends.
 */
export class Subscriptions {
  readonly #ctx: RouterContext;
  readonly #subscriber: Subscriber;
  readonly #out: SessionOutput;
  readonly #channels = new Set<string>();

  constructor(ctx: RouterContext, subscriber: Subscriber, out: SessionOutput) {
    this.#ctx = ctx;
    this.#subscriber = subscriber;
    this.#out = out;
  }

  subscribe(frame: FrameOf<'subscribe'>): void {
    if (this.#channels.has(frame.channel)) {
      this.#ctx.channels.unsubscribe(frame.channel, this.#subscriber);
      this.#channels.delete(frame.channel);
    }
    if (this.#channels.size >= this.#ctx.settings.limits.maxChannels) {
      this.#out.limitHit('max_channels');
      throw new PulseError('TOO_MANY_CHANNELS', `at most ${this.#ctx.settings.limits.maxChannels} channels`);
    }
    const presence = frame.presence === true;
    const result = this.#ctx.channels.subscribe(frame.channel, this.#subscriber, { presence, since: frame.since });
    this.#channels.add(frame.channel);
    this.#out.send({
      type: 'subscribed',
      id: frame.id,
      channel: frame.channel,
      epoch: result.channel.epoch,
      offset: result.channel.offset,
      recovered: result.recovered,
    });
    for (const bytes of result.missed) this.#out.sendBytes(bytes, false);
    if (presence) {
      // A snapshot holds at most maxArrayLength members: more would not decode at a client.
      const members = result.channel.members().slice(0, this.#ctx.codec.limits.maxArrayLength);
      this.#out.send({ type: 'presence_snapshot', channel: frame.channel, members });
    }
  }

  unsubscribe(frame: FrameOf<'unsubscribe'>): void {
    if (!this.#channels.delete(frame.channel)) {
      throw new PulseError('NOT_FOUND', `not subscribed to ${frame.channel}`);
    }
    this.#ctx.channels.unsubscribe(frame.channel, this.#subscriber);
    this.#out.send({ type: 'ok', id: frame.id });
  }

  publish(frame: FrameOf<'publish'>, member: PresenceMember, now: number): void {
    const max = this.#ctx.settings.limits.maxMessageSize;
    if (frame.payload.length > max) {
      this.#out.limitHit('message_size');
      throw new PulseError('PAYLOAD_TOO_LARGE', `a payload of ${frame.payload.length} bytes exceeds ${max}`);
    }
    const offset = this.#ctx.channels.publish(frame.channel, member, frame.payload, now);
    this.#out.send({ type: 'published', id: frame.id, offset });
  }

  /** The session ended: leave every channel. */
  leaveAll(): void {
    for (const channel of this.#channels) this.#ctx.channels.unsubscribe(channel, this.#subscriber);
    this.#channels.clear();
  }
}
