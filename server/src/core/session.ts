import { randomBytes } from 'node:crypto';
import { type Frame, type FrameOf, negotiateVersion, ProtoError } from '@pulse/proto';
import { authenticateDevice, authenticateToken, authOk, registerAccount, takeAuthAttempt } from './authentication.ts';
import type { PresenceMember, Subscriber } from './channels/channel.ts';
import { type Connection, UNKNOWN_ADDRESS } from './connection.ts';
import type { RouterContext } from './context.ts';
import { EnvelopeDelivery } from './delivery.ts';
import { linkDevice, listDevices, removeDevice } from './devices.ts';
import { sendEnvelopes } from './envelopes.ts';
import { PulseError } from './errors.ts';
import type { DeviceSession } from './hub.ts';
import { TokenBucket } from './limits/token-bucket.ts';
import type { SessionOutput } from './output.ts';
import { fetchBundles, preKeysLow, uploadPreKeys, warnOwners } from './prekeys.ts';
import type { Address } from './store.ts';
import { Subscriptions } from './subscriptions.ts';

type State = 'hello' | 'unauthenticated' | 'authenticated' | 'closed';

/** Frames allowed before `auth_ok` (PROTOCOL.md "Handshake and authentication"). */
const PRE_AUTH = new Set<Frame['type']>(['hello', 'register', 'auth', 'auth_token', 'ping', 'pong', 'close']);

/**
 * One connection's protocol state: handshake, authentication, then requests.
 * It sees only whole frames (bytes in, bytes out through its Connection) and the
 * shared RouterContext; which transport carries it is a metrics label only.
 * This class is the state machine, the dispatch and the bounded send queue; the
 * requests themselves are handled in authentication.ts, devices.ts, prekeys.ts,
 * envelopes.ts, delivery.ts and subscriptions.ts.
 */
export class Session implements DeviceSession, Subscriber {
  readonly #ctx: RouterContext;
  readonly #conn: Connection;
  readonly #counters;
  readonly #challenge = new Uint8Array(randomBytes(32));
  readonly #authKey = `connection:${randomBytes(8).toString('hex')}`;
  readonly #rate: TokenBucket;
  readonly #openedAt: number;
  /** The handlers' way to answer on this connection. */
  readonly #out: SessionOutput = {
    send: (frame) => this.#send(frame),
    sendBytes: (bytes, ephemeral) => this.#sendBytes(bytes, ephemeral),
    sendError: (id, code, message, retryAfterMs) => this.#sendError(id, code, message, retryAfterMs),
    limitHit: (limit) => this.#limitHit(limit),
  };
  readonly #subscriptions: Subscriptions;
  #state: State = 'hello';
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
    this.#counters = ctx.metrics.forTransport(conn.transport);
    const now = ctx.now();
    this.#openedAt = now;
    this.#lastReceivedAt = now;
    this.#rate = new TokenBucket(ctx.config.limits.rate, ctx.config.limits.rateBurst, now);
    this.#subscriptions = new Subscriptions(ctx, this, this.#out);
  }

  get transport(): string {
    return this.#conn.transport;
  }

  get member(): PresenceMember {
    return { account: this.#account, deviceId: this.#deviceId, connectedAt: this.#connectedAt };
  }

  get isClosed(): boolean {
    return this.#state === 'closed';
  }

  // ---- bytes in ----------------------------------------------------------------

  receive(bytes: Uint8Array): void {
    if (this.#state === 'closed') return;
    const now = this.#ctx.now();
    this.#lastReceivedAt = now;
    this.#pingSent = false;
    this.#counters.framesIn++;
    this.#counters.bytesIn += bytes.length;

    // The rate limit comes before decoding: decoding is the work a flood would buy.
    const retryAfterMs = this.#rate.take(now);
    if (retryAfterMs > 0) {
      this.#limitHit('rate');
      if (++this.#refusedInARow > this.#ctx.config.limits.rateBurst) {
        this.close('RATE_LIMITED', 'too many frames refused in a row');
        return;
      }
      this.#sendError(this.#requestIdOf(bytes), 'RATE_LIMITED', 'too many frames on this connection', retryAfterMs);
      return;
    }
    this.#refusedInARow = 0;

    let frame: Frame;
    try {
      frame = this.#ctx.codec.decode(bytes);
    } catch (error) {
      if (error instanceof ProtoError) {
        this.#limitHit('malformed');
        this.#sendError(error.requestId, error.code, error.message);
        return;
      }
      throw error;
    }
    const id = 'id' in frame && typeof frame.id === 'number' ? frame.id : undefined;

    const started = process.hrtime.bigint();
    try {
      this.#dispatch(frame, now);
    } catch (error) {
      if (error instanceof PulseError) {
        this.#sendError(id, error.code, error.message, error.retryAfterMs);
      } else {
        this.#ctx.log.error({ err: error, frame: frame.type }, 'fault while handling a frame');
        this.#sendError(id, 'INTERNAL', 'internal server error');
      }
    }
    // A send's latency is measured to its `sent`, after the group commit (type send_commit).
    if (id !== undefined && frame.type !== 'send') {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.#ctx.metrics.latency.labels(this.#conn.transport, frame.type).observe(seconds);
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
    this.#limitHit('framing');
    const code = error instanceof ProtoError ? error.code : 'PROTO_MALFORMED';
    this.close(code, error.message.slice(0, 200));
  }

  #dispatch(frame: Frame, now: number): void {
    if (this.#state === 'hello' && frame.type !== 'hello' && frame.type !== 'ping' && frame.type !== 'close') {
      throw new PulseError('AUTH_REQUIRED', 'send hello first');
    }
    if (this.#state !== 'authenticated' && !PRE_AUTH.has(frame.type)) {
      throw new PulseError('AUTH_REQUIRED', `${frame.type} needs an authenticated connection`);
    }
    switch (frame.type) {
      case 'hello':
        this.#hello(frame, now);
        return;
      case 'register':
        this.#checkAuthAttempt(now);
        this.#authenticated(
          frame.id,
          registerAccount(this.#ctx, this.#challenge, frame, now, this.#conn.remoteAddress),
          now,
        );
        return;
      case 'auth':
        this.#checkAuthAttempt(now);
        this.#authenticated(frame.id, authenticateDevice(this.#ctx, this.#challenge, frame), now);
        return;
      case 'auth_token':
        this.#checkAuthAttempt(now);
        this.#authenticated(frame.id, authenticateToken(this.#ctx, frame, now), now);
        return;
      case 'ping':
        this.#send({ type: 'pong', nonce: frame.nonce });
        return;
      case 'pong':
        return;
      case 'close':
        this.#ctx.log.debug({ code: frame.code }, 'peer closed');
        this.#end('NORMAL', 'closed by the peer', false);
        return;
      case 'device_link':
        this.#send(linkDevice(this.#ctx, this.#account, this.#challenge, frame, now));
        return;
      case 'device_list':
        this.#send(listDevices(this.#ctx, this.#account, frame));
        return;
      case 'device_remove':
        this.#send(removeDevice(this.#ctx, this.#account, frame));
        this.#ctx.hub
          .get(this.#account, frame.deviceId)
          ?.close('AUTH_FAILED', 'this device was removed from the account');
        return;
      case 'prekeys_upload':
        this.#send(uploadPreKeys(this.#ctx, this.#self(), frame));
        return;
      case 'bundle_fetch':
        {
          const { answer, records } = fetchBundles(this.#ctx, this.#account, frame, now, (l) => this.#limitHit(l));
          this.#send(answer);
          warnOwners(this.#ctx, frame.account, records);
        }
        return;
      case 'send':
        sendEnvelopes(this.#ctx, this.#self(), frame, now, this.#out, this.#conn.transport);
        return;
      case 'deliver_ack':
        this.#delivery?.ack(frame.envelopeIds);
        return;
      case 'sync':
        this.#send({ type: 'sync_done', id: frame.id, delivered: this.#delivery?.resync() ?? 0 });
        return;
      case 'subscribe':
        this.#subscriptions.subscribe(frame);
        return;
      case 'unsubscribe':
        this.#subscriptions.unsubscribe(frame);
        return;
      case 'publish':
        this.#subscriptions.publish(frame, this.member, now);
        return;
      default:
        // Server-to-client frames sent by a client.
        throw new PulseError('PROTO_UNKNOWN_TYPE', `${frame.type} is not a request`);
    }
  }

  // ---- handshake and authentication -------------------------------------------

  #hello(frame: FrameOf<'hello'>, now: number): void {
    if (this.#state !== 'hello') throw new PulseError('PROTO_BAD_FIELD', 'hello was already received');
    let version: number;
    try {
      version = negotiateVersion(frame.versions);
    } catch (error) {
      this.close('PROTO_NO_COMMON_VERSION', (error as Error).message);
      return;
    }
    this.#state = 'unauthenticated';
    this.#send({
      type: 'welcome',
      version,
      serverTime: now,
      challenge: this.#challenge,
      heartbeatMs: this.#ctx.config.heartbeat.interval,
      maxFrameBytes: this.#ctx.config.limits.maxFrameBytes,
    });
  }

  /** Every register/auth/auth_token counts against the per-IP attempt budget. */
  #checkAuthAttempt(now: number): void {
    if (this.#state === 'authenticated') throw new PulseError('FORBIDDEN', 'this connection is already authenticated');
    // Without a peer address the budget is per connection (weaker: see README "Limits").
    const key = this.#conn.remoteAddress === UNKNOWN_ADDRESS ? this.#authKey : this.#conn.remoteAddress;
    takeAuthAttempt(this.#ctx, key, now, (limit) => this.#limitHit(limit));
  }

  #authenticated(id: number, device: Address, now: number): void {
    const { account, deviceId } = device;
    this.#state = 'authenticated';
    this.#account = account;
    this.#deviceId = deviceId;
    this.#connectedAt = now;
    this.#send(authOk(this.#ctx, id, device, now));
    this.#ctx.log.info({ account, deviceId, transport: this.#conn.transport }, 'authenticated');
    this.#delivery = new EnvelopeDelivery(this.#ctx, account, deviceId, {
      send: (frame) => this.#send(frame),
      bufferedAmount: () => this.#conn.bufferedAmount,
      isOpen: () => this.#state === 'authenticated',
    });
    this.#ctx.hub.attach(account, deviceId, this);
    this.#warnIfPreKeysLow();
    this.#delivery.pump();
  }

  /** A device that was offline when its prekeys ran low hears it when it connects. */
  #warnIfPreKeysLow(): void {
    const low = preKeysLow(this.#ctx, this.#account, this.#deviceId);
    if (low !== undefined) this.#send(low);
  }

  #self(): Address {
    return { account: this.#account, deviceId: this.#deviceId };
  }

  // ---- the hub and channels deliver through the session --------------------------

  pump(): void {
    this.#delivery?.pump();
  }

  notify(bytes: Uint8Array): void {
    this.#sendBytes(bytes, false);
  }

  /** Subscriber: channel bytes (encoded once for all subscribers). */
  deliver(bytes: Uint8Array, ephemeral: boolean): void {
    this.#sendBytes(bytes, ephemeral);
  }

  // ---- liveness -------------------------------------------------------------------

  /** Called periodically: pings an idle peer, closes a silent one. */
  tick(now: number): void {
    if (this.#state === 'closed') return;
    const { interval, timeout } = this.#ctx.config.heartbeat;
    if (this.#state !== 'authenticated' && now - this.#openedAt > timeout) {
      this.close('AUTH_REQUIRED', 'not authenticated within the heartbeat timeout');
      return;
    }
    const silent = now - this.#lastReceivedAt;
    if (silent > timeout) {
      this.#limitHit('heartbeat');
      this.close('HEARTBEAT_TIMEOUT', `nothing received for ${silent} ms`);
    } else if (silent >= interval && !this.#pingSent) {
      this.#pingSent = true;
      this.#send({ type: 'ping', nonce: (now & 0x7fff_ffff) >>> 0 });
    }
  }

  // ---- bytes out ------------------------------------------------------------------

  #send(frame: Frame): void {
    this.#sendBytes(this.#ctx.codec.encode(frame), false);
  }

  /**
   * The bounded send queue: beyond `send_queue_bytes` ephemeral events are
   * dropped; anything else closes the connection with SLOW_CONSUMER.
   */
  #sendBytes(bytes: Uint8Array, ephemeral: boolean): void {
    if (this.#state === 'closed') return;
    if (this.#conn.bufferedAmount + bytes.length > this.#ctx.config.limits.sendQueueBytes) {
      if (ephemeral) {
        this.#ctx.metrics.droppedTotal.labels(this.#conn.transport).inc();
        return;
      }
      this.#limitHit('send_queue');
      this.close('SLOW_CONSUMER', 'the send queue overflowed');
      return;
    }
    this.#counters.framesOut++;
    this.#counters.bytesOut += bytes.length;
    this.#conn.send(bytes);
  }

  #sendError(id: number | undefined, code: string, message: string, retryAfterMs?: number): void {
    this.#ctx.metrics.errorsTotal.labels(this.#conn.transport, code).inc();
    const frame: FrameOf<'error'> = { type: 'error', code, message: message.slice(0, 500) };
    if (id !== undefined) frame.id = id;
    if (retryAfterMs !== undefined) frame.retryAfterMs = retryAfterMs;
    this.#send(frame);
  }

  #limitHit(limit: string): void {
    this.#ctx.metrics.limitViolations.labels(this.#conn.transport, limit).inc();
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
    if (sendClose && code !== 'NORMAL') {
      // A close frame is never refused by the queue limit: it is the last thing sent.
      this.#conn.send(this.#ctx.codec.encode({ type: 'close', code, reason: reason.slice(0, 500) }));
    }
    const wasAuthenticated = this.#state === 'authenticated';
    this.#state = 'closed';
    this.#conn.close(code, reason);
    this.#subscriptions.leaveAll();
    if (wasAuthenticated) this.#ctx.hub.detach(this.#account, this.#deviceId, this);
    this.#ctx.log.debug({ code, account: this.#account || undefined }, 'session ended');
    this.onEnded();
  }
}
