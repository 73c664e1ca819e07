import { type Frame, type FrameOf, negotiateVersion, ProtoError } from '@pulse/proto';
import type { PresenceMember, Subscriber } from '../channels/channel.ts';
import { Subscriptions } from '../channels/subscriptions.ts';
import type { Connection, TransportKind } from '../connection.ts';
import type { RouterContext } from '../context.ts';
import { EnvelopeDelivery } from '../delivery.ts';
import { PulseError } from '../errors.ts';
import type { DeviceSession } from '../hub.ts';
import { TokenBucket } from '../limits/token-bucket.ts';
import type { Traffic } from '../ports/metrics.ts';
import { randomHex } from '../ports/random.ts';
import { authOk } from '../requests/authentication.ts';
import { preKeysLow } from '../requests/prekeys.ts';
import type { RequestSession, SessionState } from '../requests/request.ts';
import type { Address } from '../store.ts';
import { dispatch } from './dispatch.ts';
import { SendQueue } from './send-queue.ts';

/**
 * One connection's protocol state machine: hello → unauthenticated →
 * authenticated → closed. It sees only whole frames (bytes in through
 * `receive`, bytes out through its SendQueue) and the shared RouterContext;
 * which transport carries it is a metrics label only. Each decoded frame goes
 * to the request table (session/dispatch.ts, requests/table.ts).
 */
export class Session implements DeviceSession, Subscriber, RequestSession {
  readonly out: SendQueue;
  readonly challenge: Uint8Array;
  readonly connectionKey: string;
  readonly subscriptions: Subscriptions;
  readonly #ctx: RouterContext;
  readonly #conn: Connection;
  readonly #traffic: Traffic;
  readonly #rate: TokenBucket;
  readonly #openedAt: number;
  #state: SessionState = 'hello';
  #lastReceivedAt: number;
  #pingSent = false;
  /** Frames refused by the rate limit since the last accepted one; beyond the burst the peer is cut off. */
  #refusedInARow = 0;
  #account = '';
  #deviceId = 0;
  #connectedAt = 0;
  #delivery: EnvelopeDelivery | undefined;
  /** Called once when the session ends (the router's bookkeeping). */
  onEnded: () => void = () => {};

  constructor(ctx: RouterContext, conn: Connection) {
    this.#ctx = ctx;
    this.#conn = conn;
    this.#traffic = ctx.metrics.traffic(conn.transport);
    this.challenge = ctx.random.bytes(32);
    this.connectionKey = `connection:${randomHex(ctx.random, 8)}`;
    const now = ctx.clock.now();
    this.#openedAt = now;
    this.#lastReceivedAt = now;
    const { limits } = ctx.settings;
    this.#rate = new TokenBucket(limits.rate, limits.rateBurst, now);
    this.out = new SendQueue(conn, {
      codec: ctx.codec,
      metrics: ctx.metrics,
      sendQueueBytes: limits.sendQueueBytes,
      onOverflow: () => this.close('SLOW_CONSUMER', 'the send queue overflowed'),
    });
    this.subscriptions = new Subscriptions(ctx, this, this.out);
  }

  get state(): SessionState {
    return this.#state;
  }

  get transport(): TransportKind {
    return this.#conn.transport;
  }

  get remoteAddress(): string {
    return this.#conn.remoteAddress;
  }

  get device(): Address {
    return { account: this.#account, deviceId: this.#deviceId };
  }

  get member(): PresenceMember {
    return { account: this.#account, deviceId: this.#deviceId, connectedAt: this.#connectedAt };
  }

  get delivery(): EnvelopeDelivery | undefined {
    return this.#delivery;
  }

  get isClosed(): boolean {
    return this.#state === 'closed';
  }

  // ---- bytes in ----------------------------------------------------------------

  receive(bytes: Uint8Array): void {
    if (this.#state === 'closed') return;
    const now = this.#ctx.clock.now();
    this.#lastReceivedAt = now;
    this.#pingSent = false;
    this.#traffic.framesIn++;
    this.#traffic.bytesIn += bytes.length;

    // The rate limit comes before decoding: decoding is the work a flood would buy.
    const retryAfterMs = this.#rate.take(now);
    if (retryAfterMs > 0) {
      this.out.limitHit('rate');
      if (++this.#refusedInARow > this.#ctx.settings.limits.rateBurst) {
        this.close('RATE_LIMITED', 'too many frames refused in a row');
        return;
      }
      this.out.sendError(this.#requestIdOf(bytes), 'RATE_LIMITED', 'too many frames on this connection', retryAfterMs);
      return;
    }
    this.#refusedInARow = 0;

    let frame: Frame;
    try {
      frame = this.#ctx.codec.decode(bytes);
    } catch (error) {
      if (error instanceof ProtoError) {
        this.out.limitHit('malformed');
        this.out.sendError(error.requestId, error.code, error.message);
        return;
      }
      throw error;
    }
    const id = 'id' in frame && typeof frame.id === 'number' ? frame.id : undefined;

    const started = this.#ctx.clock.monotonic();
    try {
      dispatch(this.#ctx, this, frame, now);
    } catch (error) {
      if (error instanceof PulseError) {
        this.out.sendError(id, error.code, error.message, error.retryAfterMs);
      } else {
        this.#ctx.log.error({ err: error, frame: frame.type }, 'fault while handling a frame');
        this.out.sendError(id, 'INTERNAL', 'internal server error');
      }
    }
    // A send's latency is measured to its `sent`, after the group commit (type send_commit).
    if (id !== undefined && frame.type !== 'send') {
      const seconds = (this.#ctx.clock.monotonic() - started) / 1000;
      this.#ctx.metrics.latency(this.#conn.transport, frame.type, seconds);
    }
  }

  /** The request id of a frame refused before handling, so the client can match the error (if it decodes). */
  #requestIdOf(bytes: Uint8Array): number | undefined {
    try {
      const frame = this.#ctx.codec.decode(bytes);
      return 'id' in frame && typeof frame.id === 'number' ? frame.id : undefined;
    } catch {
      return undefined;
    }
  }

  /** The transport could not delimit a frame: tell the peer why, then close. */
  framingError(error: Error): void {
    this.out.limitHit('framing');
    const code = error instanceof ProtoError ? error.code : 'PROTO_MALFORMED';
    this.close(code, error.message.slice(0, 200));
  }

  // ---- state transitions ------------------------------------------------------------

  acceptHello(frame: FrameOf<'hello'>, now: number): void {
    if (this.#state !== 'hello') throw new PulseError('PROTO_BAD_FIELD', 'hello was already received');
    let version: number;
    try {
      version = negotiateVersion(frame.versions);
    } catch (error) {
      this.close('PROTO_NO_COMMON_VERSION', (error as Error).message);
      return;
    }
    this.#state = 'unauthenticated';
    this.out.send({
      type: 'welcome',
      version,
      serverTime: now,
      challenge: this.challenge,
      heartbeatMs: this.#ctx.settings.heartbeat.interval,
      maxFrameBytes: this.#ctx.settings.limits.maxFrameBytes,
    });
  }

  authenticated(id: number, device: Address, now: number): void {
    const { account, deviceId } = device;
    this.#state = 'authenticated';
    this.#account = account;
    this.#deviceId = deviceId;
    this.#connectedAt = now;
    this.out.send(authOk(this.#ctx, id, device, now));
    this.#ctx.log.info({ account, deviceId, transport: this.#conn.transport }, 'authenticated');
    this.#delivery = new EnvelopeDelivery(this.#ctx, account, deviceId, {
      send: (frame) => this.out.send(frame),
      bufferedAmount: () => this.#conn.bufferedAmount,
      isOpen: () => this.#state === 'authenticated',
    });
    this.#ctx.hub.attach(account, deviceId, this);
    // A device that was offline when its prekeys ran low hears it when it connects.
    const low = preKeysLow(this.#ctx, account, deviceId);
    if (low !== undefined) this.out.send(low);
    this.#delivery.pump();
  }

  peerClosed(): void {
    this.#end('NORMAL', 'closed by the peer', false);
  }

  // ---- the hub and channels deliver through the session --------------------------

  pump(): void {
    this.#delivery?.pump();
  }

  notify(bytes: Uint8Array): void {
    this.out.sendBytes(bytes, false);
  }

  /** Subscriber: channel bytes (encoded once for all subscribers). */
  deliver(bytes: Uint8Array, ephemeral: boolean): void {
    this.out.sendBytes(bytes, ephemeral);
  }

  // ---- liveness -------------------------------------------------------------------

  /** Called periodically: pings an idle peer, closes a silent one. */
  tick(now: number): void {
    if (this.#state === 'closed') return;
    const { interval, timeout } = this.#ctx.settings.heartbeat;
    if (this.#state !== 'authenticated' && now - this.#openedAt > timeout) {
      this.close('AUTH_REQUIRED', 'not authenticated within the heartbeat timeout');
      return;
    }
    const silent = now - this.#lastReceivedAt;
    if (silent > timeout) {
      this.out.limitHit('heartbeat');
      this.close('HEARTBEAT_TIMEOUT', `nothing received for ${silent} ms`);
    } else if (silent >= interval && !this.#pingSent) {
      this.#pingSent = true;
      this.out.send({ type: 'ping', nonce: (now & 0x7fff_ffff) >>> 0 });
    }
  }

  // ---- the end --------------------------------------------------------------------

  /** Sends a `close` frame, closes the transport and leaves everything. */
  close(code: string, reason: string): void {
    this.#end(code, reason, true);
  }

  /** The transport is gone. */
  transportClosed(): void {
    this.#end('NORMAL', 'transport closed', false);
  }

  #end(code: string, reason: string, sendClose: boolean): void {
    if (this.#state === 'closed') return;
    if (sendClose && code !== 'NORMAL') this.out.sendClose(code, reason);
    else this.out.stop();
    const wasAuthenticated = this.#state === 'authenticated';
    this.#state = 'closed';
    this.#conn.close(code, reason);
    this.subscriptions.leaveAll();
    if (wasAuthenticated) this.#ctx.hub.detach(this.#account, this.#deviceId, this);
    this.#ctx.log.debug({ code, account: this.#account || undefined }, 'session ended');
    this.onEnded();
  }
}
