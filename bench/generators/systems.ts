/**
 * The pub/sub systems a fan-out generator drives, behind one shape: subscribers
 * that count what arrives, and a publisher. Pulse is driven with its bare
 * protocol client (FrameClient) and counts whole frames without decoding them:
 * the generator measures the server, not a client's decoder.
 */
import { connect as natsConnect } from '@nats-io/transport-node';
import type { FrameClient } from '@pulse/testing';
import { io } from 'socket.io-client';
import { WebSocket } from 'ws';

export type PubSubSystem = 'pulse-ws' | 'pulse-wt' | 'ws' | 'socketio' | 'nats';

/** Where a system listens: a URL (ws://, http://, https:// for WebTransport, host:port for NATS). */
export interface Target {
  readonly system: PubSubSystem;
  readonly url: string;
  /** WebTransport only: the certificate's SHA-256, to dial by hash. */
  readonly certificateSha256?: number[];
}

export interface Closable {
  close(): void;
}

export interface Publisher extends Closable {
  publish(payload: Uint8Array): void;
}

/** Pulse's channel for every fan-out run (public: any device may subscribe and publish). */
export const CHANNEL = 'public:bench';
const SUBJECT = 'bench';

/** @pulse/testing, loaded on first use: the baselines' generators never load Pulse's packages. */
export const pulseTesting = () => import('@pulse/testing');

export async function pulseDial(target: Target) {
  const { dialWebSocket, dialWebTransport } = await pulseTesting();
  if (target.system === 'pulse-wt') {
    return dialWebTransport(target.url, new Uint8Array(target.certificateSha256 ?? []));
  }
  return dialWebSocket(target.url);
}

function opened(socket: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
}

/**
 * Every 10 s each Pulse connection sends a `ping`, as the SDK's heartbeat does:
 * a connection silent for 30 s is closed by QUIC's idle timeout (WebTransport),
 * and generator clients wait idle while the other systems are measured.
 */
const KEEPALIVE_MS = 10_000;

export function keepAlive(client: FrameClient): void {
  const timer = setInterval(() => {
    if (client.isClosed) clearInterval(timer);
    else client.send({ type: 'ping', nonce: (Math.random() * 0xffff_ffff) >>> 0 });
  }, KEEPALIVE_MS);
  timer.unref();
}

export async function openSubscriber(target: Target, onMessage: () => void): Promise<Closable> {
  switch (target.system) {
    case 'pulse-ws':
    case 'pulse-wt': {
      const device = await (await pulseTesting()).register(await pulseDial(target));
      await device.client.expect({ type: 'subscribe', id: 0, channel: CHANNEL }, 'subscribed');
      device.client.takeUndecoded(onMessage);
      keepAlive(device.client);
      return device.client;
    }
    case 'ws': {
      const socket = new WebSocket(`${target.url}/sub`, { perMessageDeflate: false });
      socket.on('message', onMessage);
      await opened(socket);
      return { close: () => socket.terminate() };
    }
    case 'socketio': {
      const socket = io(target.url, { transports: ['websocket'], query: { role: 'sub' }, reconnection: false });
      socket.on('m', onMessage);
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      return { close: () => socket.disconnect() };
    }
    case 'nats': {
      const connection = await natsConnect({ servers: target.url });
      connection.subscribe(SUBJECT, { callback: onMessage });
      await connection.flush();
      return { close: () => void connection.close() };
    }
  }
}

export async function openPublisher(target: Target): Promise<Publisher> {
  switch (target.system) {
    case 'pulse-ws':
    case 'pulse-wt': {
      const device = await (await pulseTesting()).register(await pulseDial(target));
      const client: FrameClient = device.client;
      // `published` answers are not waited for: the publisher keeps the server busy, the subscribers time it.
      client.takeUndecoded(() => {});
      keepAlive(client);
      let id = 0;
      return {
        publish: (payload) => client.send({ type: 'publish', id: ++id, channel: CHANNEL, payload }),
        close: () => client.close(),
      };
    }
    case 'ws': {
      const socket = new WebSocket(`${target.url}/pub`, { perMessageDeflate: false });
      await opened(socket);
      return { publish: (payload) => socket.send(payload), close: () => socket.terminate() };
    }
    case 'socketio': {
      const socket = io(target.url, { transports: ['websocket'], query: { role: 'pub' }, reconnection: false });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      return { publish: (payload) => socket.emit('pub', payload), close: () => socket.disconnect() };
    }
    case 'nats': {
      const connection = await natsConnect({ servers: target.url });
      return { publish: (payload) => connection.publish(SUBJECT, payload), close: () => void connection.close() };
    }
  }
}
