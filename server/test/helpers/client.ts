import { generateIdentityKeyPair, type IdentityKeyPair } from '@pulse/crypto';
import {
  authSignedMessage,
  deviceLinkSignedMessage,
  type Frame,
  FrameCodec,
  type FrameOf,
  type FrameType,
  protoLimits,
  registerSignedMessage,
} from '@pulse/proto';

/** A raw, already-open connection to the server: whole frames in and out. */
export interface RawLink {
  send(bytes: Uint8Array): void;
  /** Sends bytes that are not a frame at all (hostile-input tests). */
  sendRaw(bytes: Uint8Array): void;
  onFrame: (bytes: Uint8Array) => void;
  /** Resolves when the connection is closed (by either side). */
  readonly closed: Promise<void>;
  close(): void;
  /** Stops reading from the network (a slow consumer); the server's sends back up. */
  pauseReading(): void;
}

/** Opens a RawLink over one transport. */
export type Dial = () => Promise<RawLink>;

// Generous limits: the test client must be able to send what the server refuses.
const codec = new FrameCodec(protoLimits({ maxFrameBytes: 8 * 1024 * 1024, maxPayloadBytes: 8 * 1024 * 1024 }));

/**
 * A minimal Pulse test client (the real SDK lives in clients/sdk): it speaks
 * frames, keeps every received frame in an inbox, and waits for frames by
 * predicate.
 */
export class TestClient {
  readonly link: RawLink;
  readonly inbox: Frame[] = [];
  #waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  #nextId = 1;
  challenge: Uint8Array = new Uint8Array(32);
  isClosed = false;

  constructor(link: RawLink) {
    this.link = link;
    link.onFrame = (bytes) => {
      const frame = codec.decode(bytes);
      const index = this.#waiters.findIndex((w) => w.match(frame));
      if (index >= 0) {
        const [waiter] = this.#waiters.splice(index, 1);
        waiter!.resolve(frame);
      } else {
        this.inbox.push(frame);
      }
    };
    void link.closed.then(() => {
      this.isClosed = true;
    });
  }

  static async open(dial: Dial): Promise<TestClient> {
    const client = new TestClient(await dial());
    const welcome = await client.exchange({ type: 'hello', versions: [1], client: 'test' }, 'welcome');
    client.challenge = welcome.challenge;
    return client;
  }

  nextId(): number {
    return this.#nextId++;
  }

  send(frame: Frame): void {
    this.link.send(codec.encode(frame));
  }

  /** Waits for (or takes from the inbox) the first frame matching. */
  waitFor(match: (f: Frame) => boolean, timeoutMs = 5_000): Promise<Frame> {
    const index = this.inbox.findIndex(match);
    if (index >= 0) return Promise.resolve(this.inbox.splice(index, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve };
      this.#waiters.push(waiter);
      setTimeout(() => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) {
          this.#waiters.splice(i, 1);
          reject(new Error(`timed out waiting for a frame; inbox: ${JSON.stringify(this.inbox.map(summary))}`));
        }
      }, timeoutMs).unref();
    });
  }

  next<T extends FrameType>(type: T, timeoutMs?: number): Promise<FrameOf<T>> {
    return this.waitFor((f) => f.type === type, timeoutMs) as Promise<FrameOf<T>>;
  }

  /** Sends a frame and waits for a frame of `type` (without id matching). */
  async exchange<T extends FrameType>(frame: Frame, type: T): Promise<FrameOf<T>> {
    const answer = this.next(type);
    this.send(frame);
    return answer;
  }

  /** Sends a request (its `id` is set here) and returns the answer or the error with that id. */
  async request(frame: Frame): Promise<Frame> {
    const id = this.nextId();
    const answer = this.waitFor((f) => 'id' in f && f.id === id);
    this.send({ ...frame, id } as Frame);
    return answer;
  }

  /** Like request, but fails the test unless the answer has `type`. */
  async expect<T extends FrameType>(frame: Frame, type: T): Promise<FrameOf<T>> {
    const answer = await this.request(frame);
    if (answer.type !== type) throw new Error(`expected ${type}, got ${JSON.stringify(summary(answer))}`);
    return answer as FrameOf<T>;
  }

  close(): void {
    this.link.close();
  }
}

function summary(frame: Frame): unknown {
  return frame.type === 'error' ? { type: 'error', code: frame.code, message: frame.message } : { type: frame.type };
}

/** A device: identity key pair plus what the server assigned. */
export interface Device {
  readonly account: string;
  readonly deviceId: number;
  readonly identity: IdentityKeyPair;
  client: TestClient;
}

let accountCounter = 0;
export function uniqueAccount(prefix = 'user'): string {
  accountCounter++;
  return `${prefix}${process.pid}x${accountCounter}`;
}

export async function register(dial: Dial, account = uniqueAccount()): Promise<Device> {
  const identity = generateIdentityKeyPair();
  const client = await TestClient.open(dial);
  const ok = await client.expect(
    {
      type: 'register',
      id: 0,
      account,
      deviceName: 'first',
      identityKey: identity.publicKey,
      signature: identity.sign(registerSignedMessage(client.challenge, account, identity.publicKey)),
    },
    'auth_ok',
  );
  return { account, deviceId: ok.deviceId, identity, client };
}

/** Opens a new connection and authenticates `device` on it by signature. */
export async function reconnect(dial: Dial, device: Device): Promise<Device> {
  const client = await TestClient.open(dial);
  await client.expect(
    {
      type: 'auth',
      id: 0,
      account: device.account,
      deviceId: device.deviceId,
      signature: device.identity.sign(authSignedMessage(client.challenge, device.account, device.deviceId)),
    },
    'auth_ok',
  );
  device.client = client;
  return device;
}

/** Links a new device to `existing`'s account; the new device is then authenticated on its own connection. */
export async function linkDevice(dial: Dial, existing: Device): Promise<Device> {
  const identity = generateIdentityKeyPair();
  const challenge = existing.client.challenge;
  const linked = await existing.client.expect(
    {
      type: 'device_link',
      id: 0,
      deviceName: 'second',
      identityKey: identity.publicKey,
      signature: identity.sign(deviceLinkSignedMessage(challenge, existing.account, identity.publicKey)),
    },
    'device_linked',
  );
  const device: Device = { account: existing.account, deviceId: linked.deviceId, identity, client: existing.client };
  return reconnect(dial, device);
}

export type { Frame };
export { codec as testCodec };
