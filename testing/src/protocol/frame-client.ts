import { generateIdentityKeyPair, type IdentityKeyPair } from '@pulse/crypto';
import {
  deviceListSignedMessage,
  type Frame,
  type FrameOf,
  type FrameType,
  PROTOCOL_VERSIONS,
  registerSignedMessage,
} from '@pulse/proto';
import type { FrameTransport, TransportEvents } from '@pulse/sdk';
import { FrameClientError, type FrameClientErrorCode } from './frame-client-error.ts';
import { TEST_CODEC } from './test-codec.ts';
import type { OpenTransport } from './wire-transport.ts';

/** How long a wait for a frame or for the close lasts before it fails the test. */
const WAIT_MS = 10_000;

interface Waiter {
  readonly what: string;
  readonly match: (frame: Frame) => boolean;
  readonly resolve: (frame: Frame) => void;
  readonly reject: (error: FrameClientError) => void;
}

/**
 * A bare protocol client (not the SDK) on any client transport: it sends frames
 * (or bytes that are not frames) and waits for the server's, to look at the wire
 * as the server speaks it. A frame nobody waits for stays in `inbox`; a wait
 * fails (FrameClientError) when the connection closes without the frame, or
 * after `timeoutMs`.
 */
export class FrameClient<T extends FrameTransport = FrameTransport> {
  readonly transport: T;
  /** Frames received and not taken by a wait yet, oldest first. */
  readonly inbox: Frame[] = [];
  /** Every `onClose` reason the transport gave (a conforming transport gives one). */
  readonly closeReasons: string[] = [];
  /** Frames that arrived in datagrams (WebTransport); they join `inbox` like any other. */
  datagramFrames = 0;
  readonly #waiters: Waiter[] = [];
  readonly #closeListeners: (() => void)[] = [];
  #welcome: FrameOf<'welcome'> | undefined;
  #nextId = 1;
  #undecoded: ((bytes: Uint8Array) => void) | undefined;

  private constructor(transport: T) {
    this.transport = transport;
  }

  /** Opens the transport; nothing is sent yet (`hello` is the test's to send). */
  static async open<T extends FrameTransport>(open: OpenTransport<T>): Promise<FrameClient<T>> {
    // A transport may deliver before `open` returns: hold those events until the client exists.
    const early: ((client: FrameClient<T>) => void)[] = [];
    let client: FrameClient<T> | undefined;
    const events: TransportEvents = {
      onFrame: (bytes) => (client ? client.#receive(bytes) : early.push((c) => c.#receive(bytes))),
      onClose: (reason) => (client ? client.#closed(reason) : early.push((c) => c.#closed(reason))),
      onDatagram: (bytes) => (client ? client.#datagram(bytes) : early.push((c) => c.#datagram(bytes))),
    };
    const opened = new FrameClient(await open(events));
    client = opened;
    for (const replay of early) replay(opened);
    return opened;
  }

  /** Opens the transport and completes hello → welcome: the connection is ready to authenticate. */
  static async connect<T extends FrameTransport>(open: OpenTransport<T>): Promise<FrameClient<T>> {
    const client = await FrameClient.open(open);
    await client.hello();
    return client;
  }

  get isClosed(): boolean {
    return this.closeReasons.length > 0;
  }

  /** The challenge of this connection's welcome (what `register`, `auth` and `link_request` sign). */
  get challenge(): Uint8Array {
    if (this.#welcome === undefined) throw new Error('no welcome yet: hello() first');
    return this.#welcome.challenge;
  }

  /** A request id not used yet on this connection. */
  nextId(): number {
    return this.#nextId++;
  }

  send(frame: Frame): void {
    this.transport.send(TEST_CODEC.encode(frame));
  }

  /** Sends bytes as one frame's worth, whatever they are (hostile input: garbage, truncated or oversized frames). */
  sendBytes(bytes: Uint8Array): void {
    this.transport.send(bytes);
  }

  /** Takes the oldest received frame that matches, or waits for one. */
  waitFor(match: (frame: Frame) => boolean, what = 'a frame', timeoutMs = WAIT_MS): Promise<Frame> {
    const index = this.inbox.findIndex(match);
    if (index >= 0) return Promise.resolve(this.inbox.splice(index, 1)[0] as Frame);
    if (this.isClosed)
      return Promise.reject(this.#failure('CLOSED', `closed while waiting for ${what}: ${this.closeReasons[0]}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#forget(waiter);
        reject(this.#failure('TIMEOUT', `nothing came while waiting for ${what}`));
      }, timeoutMs);
      const waiter: Waiter = {
        what,
        match,
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.#waiters.push(waiter);
    });
  }

  /** Takes the oldest received frame of `type` (an `error` frame is a frame like any other), or waits for one. */
  next<K extends FrameType>(type: K, timeoutMs = WAIT_MS): Promise<FrameOf<K>> {
    return this.waitFor((frame) => frame.type === type, type, timeoutMs) as Promise<FrameOf<K>>;
  }

  /** Sends `frame` and waits for a frame of `type` (no id matching: for frames without one). */
  exchange<K extends FrameType>(frame: Frame, type: K): Promise<FrameOf<K>> {
    const answer = this.next(type);
    this.send(frame);
    return answer;
  }

  /** Sends a request (its `id` is set here) and returns the frame answering that id: the answer or an `error`. */
  request(frame: Frame): Promise<Frame> {
    const id = this.nextId();
    const answer = this.waitFor((f) => 'id' in f && f.id === id, `the answer to ${frame.type} #${id}`);
    this.send({ ...frame, id } as Frame);
    return answer;
  }

  /** Like `request`, but an answer other than `type` fails (an error with its code and message). */
  async expect<K extends FrameType>(frame: Frame, type: K): Promise<FrameOf<K>> {
    const answer = await this.request(frame);
    if (answer.type === type) return answer as FrameOf<K>;
    throw new FrameClientError('UNEXPECTED_ANSWER', `expected ${type} to ${frame.type}, got ${describe(answer)}`);
  }

  /** Resolves with the first close reason. */
  async closed(timeoutMs = WAIT_MS): Promise<string> {
    if (!this.isClosed) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.#closeListeners.splice(this.#closeListeners.indexOf(heard), 1);
          reject(this.#failure('TIMEOUT', 'the transport did not close'));
        }, timeoutMs);
        const heard = () => {
          clearTimeout(timer);
          resolve();
        };
        this.#closeListeners.push(heard);
      });
    }
    return this.closeReasons[0] as string;
  }

  /** hello → welcome; the challenge is kept for signing. */
  async hello(versions: readonly number[] = PROTOCOL_VERSIONS): Promise<FrameOf<'welcome'>> {
    this.#welcome = await this.exchange({ type: 'hello', versions: [...versions], client: 'pulse-testing' }, 'welcome');
    return this.#welcome;
  }

  /**
   * Registers `account` with `identity` (hello first if this connection has had
   * no welcome yet) under the account identity `accountIdentity`, which signs the
   * first device list: the connection is authenticated as its device 1.
   */
  async register(
    account: string,
    identity: IdentityKeyPair = generateIdentityKeyPair(),
    deviceName = 'first',
    accountIdentity: IdentityKeyPair = generateIdentityKeyPair(),
  ): Promise<FrameOf<'auth_ok'>> {
    if (this.#welcome === undefined) await this.hello();
    const devices = [{ deviceId: 1, identityKey: identity.publicKey, name: deviceName, addedAt: 1 }];
    const signature = accountIdentity.sign(deviceListSignedMessage({ account, version: 1, devices }));
    return this.expect(
      {
        type: 'register',
        id: 0,
        account,
        deviceName,
        identityKey: identity.publicKey,
        signature: identity.sign(registerSignedMessage(this.challenge, account, identity.publicKey)),
        accountKey: accountIdentity.publicKey,
        deviceList: { version: 1, devices, signature },
      },
      'auth_ok',
    );
  }

  /** From now on every frame received goes to `handler` undecoded, not to the inbox (benchmarks count frames). */
  takeUndecoded(handler: (bytes: Uint8Array) => void): void {
    this.#undecoded = handler;
  }

  close(): void {
    this.transport.close();
  }

  #datagram(bytes: Uint8Array): void {
    this.datagramFrames++;
    this.#receive(bytes);
  }

  #receive(bytes: Uint8Array): void {
    if (this.#undecoded !== undefined) {
      this.#undecoded(bytes);
      return;
    }
    const frame = TEST_CODEC.decode(bytes);
    const waiter = this.#waiters.find((w) => w.match(frame));
    if (waiter === undefined) {
      this.inbox.push(frame);
      return;
    }
    this.#forget(waiter);
    waiter.resolve(frame);
  }

  #closed(reason: string): void {
    this.closeReasons.push(reason);
    // Every frame sent before the close has arrived (a transport delivers them first): nothing more will.
    for (const waiter of this.#waiters.splice(0)) {
      waiter.reject(this.#failure('CLOSED', `closed while waiting for ${waiter.what}: ${reason}`));
    }
    for (const heard of this.#closeListeners.splice(0)) heard();
  }

  #forget(waiter: Waiter): void {
    const index = this.#waiters.indexOf(waiter);
    if (index >= 0) this.#waiters.splice(index, 1);
  }

  /** The failure of a wait, with what had arrived meanwhile. */
  #failure(code: FrameClientErrorCode, message: string): FrameClientError {
    return new FrameClientError(code, `${message}; inbox: ${this.inbox.map(describe).join(', ') || 'empty'}`);
  }
}

/** A frame in a few words: its type, and an error's code and message. */
function describe(frame: Frame): string {
  return frame.type === 'error' ? `error ${frame.code} (${frame.message})` : frame.type;
}
