import type { Frame } from '@pulse/proto';
import { type Device, type OpenTransport, register, TEST_CODEC } from '@pulse/testing/protocol';
import { answerPing } from './heartbeat.ts';
import { percentile } from './stats.ts';

/** Between two round trips: a steady, well-behaved client (100 per second: enough samples for a p99). */
const INTERVAL_MS = 10;
/** A round trip that takes longer counts as failed. */
const TIMEOUT_MS = 5_000;

/** What a probe measured over one window. */
export interface RoundTrips {
  readonly samples: readonly number[];
  readonly failures: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** Several windows as one: their samples pooled (the figures are recomputed, not averaged). */
export function pooledRoundTrips(windows: readonly RoundTrips[]): RoundTrips {
  const samples = windows.flatMap((w) => w.samples);
  return {
    samples,
    failures: windows.reduce((sum, w) => sum + w.failures, 0),
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    max: Math.max(0, ...samples),
  };
}

/**
 * A well-behaved client: subscribed to a public channel of its own, it publishes
 * a small payload every 10 ms and times each until its own `channel_message`
 * comes back (client → server → client, through decode, the rate limiter, the
 * channel fan-out and the send queue; no disk, whose fsyncs would measure the
 * disk). One round trip at a time.
 */
export class RoundTripProbe {
  readonly device: Device;
  readonly #channel: string;
  #waiting: { offset: number | undefined; resolve: () => void } | undefined;
  #closed = false;

  private constructor(device: Device, channel: string) {
    this.device = device;
    this.#channel = channel;
  }

  static async start(open: OpenTransport): Promise<RoundTripProbe> {
    const device = await register(open);
    const channel = `public:probe-${device.account}`;
    await device.client.expect({ type: 'subscribe', id: 0, channel }, 'subscribed');
    const probe = new RoundTripProbe(device, channel);
    device.client.takeUndecoded((bytes) => probe.#receive(TEST_CODEC.decode(bytes)));
    void device.client.closed(2 ** 31 - 1).then(
      () => {
        probe.#closed = true;
      },
      () => {},
    );
    return probe;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** Round trips for `durationMs`, one every 10 ms. */
  async measure(durationMs: number): Promise<RoundTrips> {
    const samples: number[] = [];
    let failures = 0;
    const end = performance.now() + durationMs;
    while (performance.now() < end) {
      const started = performance.now();
      const ms = await this.#roundTrip();
      if (ms === undefined) failures += 1;
      else samples.push(ms);
      const rest = INTERVAL_MS - (performance.now() - started);
      if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
    }
    return {
      samples,
      failures,
      p50: percentile(samples, 50),
      p99: percentile(samples, 99),
      max: Math.max(0, ...samples),
    };
  }

  close(): void {
    this.device.client.close();
  }

  async #roundTrip(): Promise<number | undefined> {
    if (this.#closed) return undefined;
    const started = performance.now();
    const arrived = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), TIMEOUT_MS);
      this.#waiting = {
        offset: undefined,
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
    });
    this.device.client.send({
      type: 'publish',
      id: this.device.client.nextId(),
      channel: this.#channel,
      payload: new Uint8Array(64),
    });
    const ok = await arrived;
    this.#waiting = undefined;
    return ok ? performance.now() - started : undefined;
  }

  #receive(frame: Frame): void {
    answerPing(this.device.client, frame);
    if (frame.type === 'channel_message' && frame.channel === this.#channel) this.#waiting?.resolve();
  }
}
