import { type Frame, type FrameOf, negotiateVersion, ProtoError } from '@pulse/proto';
import type { PresenceMember } from '../channels/channel.ts';
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
import { relayEphemeral } from '../requests/ephemeral.ts';
import { preKeysLow } from '../requests/prekeys.ts';
import type { RequestSession, SessionState } from '../requests/request.ts';
import { type Address, type StoredEnvelope, StoreUnavailable } from '../store.ts';
import type { AnonymousPass } from './anonymous-senders.ts';
import { dispatch } from './dispatch.ts';
import { EphemeralLane } from './ephemeral-lane.ts';
import { RateRefusals } from './rate-refusals.ts';
import { SendQueue } from './send-queue.ts';

/** The retry hint of a frame refused because `rate_burst` frames already wait for the store. */
const WAITING_RETRY_MS = 100;

/**
 * One connection's protocol state machine: hello → unauthenticated →
 * authenticated → closed. It sees only whole frames (bytes in through
 * `receive`, bytes out through its SendQueue) and the shared RouterContext;
 * which transport carries it is a metrics label only. Each decoded frame goes
 * to the request table (session/dispatch.ts, requests/table.ts).
 *
 * Handlers may wait for the store, so a session handles its frames one at a
 * time, in arrival order: a frame waits until the previous one is answered.
 * The rate limit applies on arrival; at most `rate_burst` frames wait.
 */
export class Session implements DeviceSession, RequestSession {
  readonly out: SendQueue;
  /** Ephemeral events: their budget, datagrams in, `ephemeral` frames out (session/ephemeral-lane.ts). */
  readonly ephemeral: EphemeralLane;
  readonly challenge: Uint8Array;
  readonly connectionKey: string;
  readonly subscriptions: Subscriptions;
  readonly #ctx: RouterContext;
  readonly #conn: Connection;
  readonly #traffic: Traffic;
  readonly #rate: TokenBucket;
  /** Bytes received, as the frame bucket counts frames (a few huge frames cost as much as many small ones). */
  readonly #byteRate: TokenBucket;
  readonly #openedAt: number;
  #state: SessionState = 'hello';
  #lastReceivedAt: number;
  #pingSent = false;
  /** Answers at most one refusal per burst and closes a connection that keeps flooding (rate_refusals). */
  readonly #refusals: RateRefusals;
  #account = '';
  #deviceId = 0;
  #connectedAt = 0;
  #delivery: EnvelopeDelivery | undefined;
  /** An anonymous connection's bounds (PROTOCOL.md "Anonymous connections"), from its `hello` on. */
  #anonymous: AnonymousPass | undefined;
  /** The frames received and not yet handled settle in order on this chain. */
  #handling: Promise<void> = Promise.resolve();
  #waiting = 0;
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
    this.#refusals = new RateRefusals(limits.rateRefusals, limits.rateRefusalsWindow);
    // Any frame the transport accepts fits the bucket: it is at least max_frame_bytes.
    this.#byteRate = new TokenBucket(limits.rateBytes, Math.max(limits.rateBytesBurst, limits.maxFrameBytes), now);
    this.out = new SendQueue(conn, {
      codec: ctx.codec,
      metrics: ctx.metrics,
      sendQueueBytes: limits.sendQueueBytes,
      onOverflow: () => this.close('SLOW_CONSUMER', 'the send queue overflowed'),
    });
    this.ephemeral = new EphemeralLane(conn, this.out, {
      codec: ctx.codec,
      metrics: ctx.metrics,
      rate: limits.ephemeralRate,
      burst: limits.ephemeralBurst,
      now,
    });
    this.subscriptions = new Subscriptions(ctx, this, this.out, () =>
      this.close('SLOW_CONSUMER', 'the send queue overflowed'),
    );
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

  get anonymous(): AnonymousPass | undefined {
    return this.#anonymous;
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

    // The rate limits come before decoding: decoding is the work a flood would buy, so a
    // refused frame is never decoded and its answer carries no id (PROTOCOL.md `RATE_LIMITED`).
    const frameWait = this.#rate.take(now);
    const byteWait = frameWait > 0 ? 0 : this.#byteRate.take(now, bytes.length);
    const retryAfterMs = Math.max(frameWait, byteWait);
    if (retryAfterMs > 0) {
      this.out.limitHit(frameWait > 0 ? 'rate' : 'rate_bytes');
      const action = this.#refusals.refuse(now, retryAfterMs);
      if (action === 'close') {
        this.close('RATE_LIMITED', 'too many frames refused on this connection');
      } else if (action === 'answer') {
        const what = frameWait > 0 ? 'frames' : 'bytes';
        this.out.sendError(undefined, 'RATE_LIMITED', `too many ${what} on this connection`, retryAfterMs);
      } else {
        this.out.limitHit('rate_unanswered');
      }
      return;
    }
    // Bounded even while the store is slow to answer: frames beyond the burst are refused, not held.
    if (this.#waiting >= this.#ctx.settings.limits.rateBurst) {
      this.out.limitHit('waiting_frames');
      const waitMs = WAITING_RETRY_MS;
      this.out.sendError(
        this.#requestIdOf(bytes),
        'RATE_LIMITED',
        'too many frames waiting on this connection',
        waitMs,
      );
      return;
    }

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
    this.#waiting++;
    this.#handling = this.#handling
      .then(() => {
        this.#waiting--;
        return this.#handle(frame, now);
      })
      .catch((error: unknown) => this.#fault(error));
  }

  /**
   * One datagram (WebTransport): an ephemeral frame, relayed at once (it waits
   * for nothing, so it need not queue behind stream frames), or dropped and
   * counted. Never answered, so a refusal here sends nothing on the stream.
   */
  receiveDatagram(bytes: Uint8Array): void {
    if (this.#state === 'closed') return;
    if (this.#state !== 'authenticated') {
      this.out.limitHit('datagram_frame');
      return;
    }
    const now = this.#ctx.clock.now();
    this.#lastReceivedAt = now;
    this.#traffic.framesIn++;
    this.#traffic.bytesIn += bytes.length;
    // The rate limits come before decoding, as on the stream; a refused datagram is dropped, unanswered.
    if (this.#rate.take(now) > 0) {
      this.out.limitHit('rate');
      return;
    }
    if (this.#byteRate.take(now, bytes.length) > 0) {
      this.out.limitHit('rate_bytes');
      return;
    }
    const frame = this.ephemeral.decodeDatagram(bytes);
    if (frame !== undefined) relayEphemeral(this.#ctx, this, frame, now);
  }

  /** What the router's guard does for a synchronous fault: this session closes, never the process. */
  #fault(error: unknown): void {
    this.#ctx.log.error({ err: error, what: 'frame' }, 'session fault');
    try {
      this.close('INTERNAL', 'internal server error');
    } catch {
      // Nothing more to do for this connection.
    }
  }

  /** Hands one frame to the request table and answers a refusal (PulseError) or a fault. */
  async #handle(frame: Frame, now: number): Promise<void> {
    if (this.#state === 'closed') return;
    const id = 'id' in frame && typeof frame.id === 'number' ? frame.id : undefined;
    const started = this.#ctx.clock.monotonic();
    try {
      await dispatch(this.#ctx, this, frame, now);
    } catch (error) {
      if (error instanceof PulseError) {
        this.out.sendError(id, error.code, error.message, error.retryAfterMs);
      } else if (error instanceof StoreUnavailable) {
        this.out.sendError(id, 'UNAVAILABLE', 'the store cannot be reached: try again later');
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

  /**
   * The request id of a frame refused because `rate_burst` frames wait for the store, so the client can
   * match the error (if it decodes). Such frames passed the rate limits: decoding them costs no more than
   * accepting them would. Frames the rate limits refuse are never decoded.
   */
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
    const anonymous = frame.anonymous === true;
    if (anonymous) {
      const pass = this.#ctx.anonymous.admit(this.#conn.remoteAddress, now);
      if (typeof pass === 'string') {
        this.out.limitHit(pass);
        this.close('SERVER_BUSY', 'too many anonymous connections');
        return;
      }
      this.#anonymous = pass;
      this.#ctx.metrics.anonymousConnections(this.#conn.transport, 1);
    }
    this.#state = anonymous ? 'anonymous' : 'unauthenticated';
    this.out.send({
      type: 'welcome',
      version,
      serverTime: now,
      challenge: this.challenge,
      heartbeatMs: this.#ctx.settings.heartbeat.interval,
      maxFrameBytes: this.#ctx.settings.limits.maxFrameBytes,
      ...(anonymous ? { anonymous: true as const } : {}),
    });
  }

  async authenticated(id: number, device: Address, now: number): Promise<void> {
    const { account, deviceId } = device;
    const answer = await authOk(this.#ctx, id, device, now);
    // The transport may have closed while the store answered: then nothing is attached.
    if (this.#state === 'closed') return;
    this.#state = 'authenticated';
    this.#account = account;
    this.#deviceId = deviceId;
    this.#connectedAt = now;
    this.out.send(answer);
    // Info level keeps no per-account login history and no IP↔account pairs (SECURITY.md "Logs").
    this.#ctx.log.info({ transport: this.#conn.transport }, 'authenticated');
    this.#ctx.log.debug({ account, deviceId }, 'authenticated');
    this.#delivery = new EnvelopeDelivery(this.#ctx, account, deviceId, {
      offer: (frame) => this.out.offerBulk(this.#ctx.codec.encode(frame)),
      room: () => this.out.bulkRoom(),
      isOpen: () => this.#state === 'authenticated',
      paused: () => this.#ctx.metrics.backlogPaused(this.#conn.transport, 'envelopes'),
      unknownAck: () => this.out.limitHit('ack_unknown'),
    });
    this.#ctx.hub.attach(account, deviceId, this);
    // A device that was offline when its prekeys ran low hears it when it connects.
    const low = await preKeysLow(this.#ctx, account, deviceId);
    if (low !== undefined) this.out.send(low);
    await this.#pumpLogged();
  }

  peerClosed(): void {
    this.#end('NORMAL', 'closed by the peer', false);
  }

  // ---- the hub and channels deliver through the session --------------------------

  pump(): void {
    void this.#pumpLogged();
  }

  handOff(envelopes: readonly StoredEnvelope[]): void {
    const delivery = this.#delivery;
    if (delivery !== undefined) void this.#deliveryLogged(() => delivery.handOff(envelopes));
  }

  /** A delivery the store fails is logged; the envelopes stay queued for the next pump, `sync` or reconnect. */
  #pumpLogged(): Promise<void> {
    const delivery = this.#delivery;
    return delivery === undefined ? Promise.resolve() : this.#deliveryLogged(() => delivery.pump());
  }

  async #deliveryLogged(work: () => Promise<number>): Promise<void> {
    try {
      await work();
    } catch (error) {
      if (error instanceof StoreUnavailable) this.#ctx.log.debug({ reason: error.message }, 'delivery paused');
      else this.#ctx.log.error({ err: error, account: this.#account, deviceId: this.#deviceId }, 'delivery failed');
    }
  }

  notify(bytes: Uint8Array): void {
    this.out.sendBytes(bytes, false);
  }

  notifyEphemeral(bytes: Uint8Array): void {
    this.ephemeral.send(bytes);
  }

  // ---- liveness -------------------------------------------------------------------

  /** Called periodically: pings an idle peer, closes a silent one. */
  tick(now: number): void {
    if (this.#state === 'closed') return;
    const { interval, timeout } = this.#ctx.settings.heartbeat;
    // An anonymous connection never authenticates: it lives while it sends (`anonymous_idle`).
    if (this.#anonymous !== undefined) {
      if (this.#anonymous.isIdle(now)) {
        this.out.limitHit('anonymous_idle');
        this.close('IDLE_TIMEOUT', 'no sealed_send within anonymous_idle');
        return;
      }
    } else if (this.#state !== 'authenticated' && now - this.#openedAt > timeout) {
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
    try {
      this.#conn.close(code, reason);
    } catch (error) {
      // A transport failing to close must not leave the session half-ended (channels, hub, counts).
      this.#ctx.log.error({ err: error }, 'transport close failed');
    }
    this.subscriptions.leaveAll();
    if (this.#anonymous !== undefined) {
      this.#anonymous.release();
      this.#ctx.metrics.anonymousConnections(this.#conn.transport, -1);
    }
    if (wasAuthenticated) this.#ctx.hub.detach(this.#account, this.#deviceId, this);
    this.#ctx.log.debug({ code, account: this.#account || undefined }, 'session ended');
    this.onEnded();
  }
}
