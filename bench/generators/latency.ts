/**
 * A 1:1 latency generator (its own process): one sender and DEVICES online
 * recipients in this process, so send and receive times come from one clock.
 * The sender sends 1 KiB payloads at a steady rate, round robin over the
 * recipients; the first 8 bytes carry the send time.
 *
 * Pulse: `send` to each recipient's account (one device each), received as
 * `deliver`, acknowledged with `deliver_ack` as a client does. NATS core:
 * a publish on the recipient's subject, received by its subscription.
 */
import { type NatsConnection, connect as natsConnect } from '@nats-io/transport-node';
import { serveRequests } from '../lib/ipc.ts';
import { percentile } from '../lib/stats.ts';
import { keepAlive, pulseDial, pulseTesting, type Target } from './systems.ts';

interface Path {
  /** Sends `payload` towards recipient `index`. */
  send(index: number, payload: Uint8Array): void;
  close(): void;
}

type OnArrival = (payload: Uint8Array) => void;

async function pulsePath(
  target: Target,
  devices: number,
  onArrival: OnArrival,
  senderTarget: Target = target,
): Promise<Path> {
  const testing = await pulseTesting();
  const dial = await pulseDial(target);
  const recipients: Awaited<ReturnType<typeof testing.register>>[] = [];
  for (let i = 0; i < devices; i++) {
    const device = await testing.register(dial);
    const client = device.client;
    client.takeUndecoded((bytes) => {
      const frame = testing.TEST_CODEC.decode(bytes);
      if (frame.type !== 'deliver') return;
      onArrival(frame.payload);
      client.send({ type: 'deliver_ack', envelopeIds: [frame.envelopeId] });
    });
    keepAlive(client);
    recipients.push(device);
  }
  // Cluster rows: the sender on another node than its recipients (shared accounts, so the sender finds them).
  const sender = await testing.register(senderTarget === target ? dial : await pulseDial(senderTarget));
  sender.client.takeUndecoded(() => {});
  keepAlive(sender.client);
  let id = 0;
  return {
    send(index, payload) {
      const to = recipients[index]!;
      sender.client.send({ type: 'send', id: ++id, to: to.account, envelopes: [{ deviceId: to.deviceId, payload }] });
    },
    close() {
      for (const d of [...recipients, sender]) d.client.close();
    },
  };
}

async function natsPath(target: Target, devices: number, onArrival: OnArrival): Promise<Path> {
  const connections: NatsConnection[] = [];
  for (let i = 0; i < devices; i++) {
    const connection = await natsConnect({ servers: target.url });
    connection.subscribe(`device.${i}`, { callback: (_error, message) => onArrival(message.data) });
    await connection.flush();
    connections.push(connection);
  }
  const sender = await natsConnect({ servers: target.url });
  return {
    send: (index, payload) => sender.publish(`device.${index}`, payload),
    close() {
      for (const c of [...connections, sender]) void c.close();
    },
  };
}

let path: Path | undefined;
let onArrival: OnArrival = () => {};

serveRequests({
  /** `senderTarget` (Pulse only): where the sender connects, when not where the recipients do. */
  async open({ target, devices, senderTarget }: { target: Target; devices: number; senderTarget?: Target }) {
    const arrival: OnArrival = (payload) => onArrival(payload);
    path =
      target.system === 'nats'
        ? await natsPath(target, devices, arrival)
        : await pulsePath(target, devices, arrival, senderTarget);
  },
  /** Sends `rate` msgs/s for `seconds`; answers with latency percentiles (ms) once all arrived or `graceMs` passed. */
  async run({
    rate,
    seconds,
    bytes,
    devices,
    graceMs,
  }: {
    rate: number;
    seconds: number;
    bytes: number;
    devices: number;
    graceMs: number;
  }) {
    if (path === undefined) throw new Error('open first');
    const total = Math.round(rate * seconds);
    const samples: number[] = [];
    let allArrived: () => void = () => {};
    const arrived = new Promise<void>((resolve) => {
      allArrived = resolve;
    });
    onArrival = (payload) => {
      const view = new DataView(payload.buffer, payload.byteOffset, 8);
      samples.push(performance.now() - view.getFloat64(0));
      if (samples.length === total) allArrived();
    };
    const started = performance.now();
    let sent = 0;
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
      while (sent < due) {
        const payload = new Uint8Array(bytes);
        new DataView(payload.buffer).setFloat64(0, performance.now());
        path.send(sent % devices, payload);
        sent++;
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await Promise.race([arrived, new Promise((resolve) => setTimeout(resolve, graceMs))]);
    const sorted = samples.sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), received: sorted.length, sent: total };
  },
  close() {
    path?.close();
  },
});
