import type { Frame } from '@pulse/proto';
import { type Device, type OpenTransport, register, TEST_CODEC } from '@pulse/testing/protocol';
import { answerPing } from './heartbeat.ts';
import { percentile } from './stats.ts';

/** A message counts as failed when it is not delivered within this. */
const DELIVERY_TIMEOUT_MS = 10_000;

/** What the chatting clients saw over one window. */
export interface ChatWindow {
  readonly sent: number;
  readonly delivered: number;
  readonly failed: number;
  readonly errors: readonly string[];
  readonly p50: number;
  readonly p99: number;
  /** delivered / (delivered + failed), 1 when nothing was due. */
  readonly successRate: number;
  /** Each delivered message's send→deliver time, in ms. */
  readonly latencies: readonly number[];
}

/** Several windows as one: their samples pooled (the figures are recomputed, not averaged). */
export function pooledWindows(windows: readonly ChatWindow[]): ChatWindow {
  const latencies = windows.flatMap((w) => w.latencies);
  const delivered = windows.reduce((sum, w) => sum + w.delivered, 0);
  const failed = windows.reduce((sum, w) => sum + w.failed, 0);
  return {
    sent: windows.reduce((sum, w) => sum + w.sent, 0),
    delivered,
    failed,
    errors: windows.flatMap((w) => w.errors),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    successRate: delivered + failed === 0 ? 1 : delivered / (delivered + failed),
    latencies,
  };
}

interface Pending {
  readonly sentAt: number;
  readonly timer: NodeJS.Timeout;
}

/**
 * Well-behaved users chatting: pairs of accounts, each sender sends a small
 * envelope to its peer every `intervalMs`; the peer acknowledges at once. The
 * figure is the time from `send` to the peer's `deliver` (through the durable
 * commit: what a user waits for), and whether every message arrived.
 */
export class ChatTraffic {
  readonly #pairs: { readonly from: Device; readonly to: Device }[];
  readonly #pending = new Map<string, Pending>();
  #window = { sent: 0, delivered: 0, failed: 0, errors: [] as string[], latencies: [] as number[] };
  #next = 0;
  #timer: NodeJS.Timeout | undefined;

  private constructor(pairs: { from: Device; to: Device }[]) {
    this.#pairs = pairs;
  }

  static async start(open: OpenTransport, pairs: number, intervalMs: number): Promise<ChatTraffic> {
    const devices: { from: Device; to: Device }[] = [];
    for (let i = 0; i < pairs; i++) devices.push({ from: await register(open), to: await register(open) });
    const traffic = new ChatTraffic(devices);
    for (const { from, to } of devices) {
      to.client.takeUndecoded((bytes) => traffic.#received(to, TEST_CODEC.decode(bytes)));
      from.client.takeUndecoded((bytes) => traffic.#answered(from, TEST_CODEC.decode(bytes)));
    }
    traffic.#timer = setInterval(() => traffic.#tick(), intervalMs / pairs);
    return traffic;
  }

  /** The figures since the last call, and a new window. */
  take(): ChatWindow {
    const w = this.#window;
    this.#window = { sent: 0, delivered: 0, failed: 0, errors: [], latencies: [] };
    const due = w.delivered + w.failed;
    return {
      sent: w.sent,
      delivered: w.delivered,
      failed: w.failed,
      errors: w.errors,
      p50: percentile(w.latencies, 50),
      p99: percentile(w.latencies, 99),
      successRate: due === 0 ? 1 : w.delivered / due,
      latencies: w.latencies,
    };
  }

  stop(): void {
    clearInterval(this.#timer);
    for (const { timer } of this.#pending.values()) clearTimeout(timer);
    for (const { from, to } of this.#pairs) {
      from.client.close();
      to.client.close();
    }
  }

  #tick(): void {
    const pair = this.#pairs[this.#next++ % this.#pairs.length]!;
    if (pair.from.client.isClosed) {
      this.#window.failed += 1;
      this.#window.errors.push('sender connection closed');
      return;
    }
    const tag = `${pair.from.account}/${this.#next}`;
    const payload = new TextEncoder().encode(tag);
    const timer = setTimeout(() => {
      this.#pending.delete(tag);
      this.#window.failed += 1;
    }, DELIVERY_TIMEOUT_MS);
    this.#pending.set(tag, { sentAt: performance.now(), timer });
    this.#window.sent += 1;
    pair.from.client.send({
      type: 'send',
      id: pair.from.client.nextId(),
      to: pair.to.account,
      envelopes: [{ deviceId: pair.to.deviceId, payload }],
    });
  }

  #answered(device: Device, frame: Frame): void {
    answerPing(device.client, frame);
    if (frame.type === 'error') this.#window.errors.push(`${frame.code}: ${frame.message}`);
  }

  #received(device: Device, frame: Frame): void {
    answerPing(device.client, frame);
    if (frame.type === 'error') this.#window.errors.push(`${frame.code}: ${frame.message}`);
    if (frame.type !== 'deliver') return;
    device.client.send({ type: 'deliver_ack', envelopeIds: [frame.envelopeId] });
    const tag = new TextDecoder().decode(frame.payload);
    const pending = this.#pending.get(tag);
    if (pending === undefined) return; // a redelivery
    this.#pending.delete(tag);
    clearTimeout(pending.timer);
    this.#window.delivered += 1;
    this.#window.latencies.push(performance.now() - pending.sentAt);
  }
}
