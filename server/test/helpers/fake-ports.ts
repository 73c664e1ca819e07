import type { TransportKind } from '../../src/core/connection.ts';
import type { Clock } from '../../src/core/ports/clock.ts';
import type { Logger } from '../../src/core/ports/logger.ts';
import type { MessageAuthenticator } from '../../src/core/ports/mac.ts';
import type {
  BacklogSource,
  EnvelopeEvent,
  EphemeralEvent,
  Metrics,
  SealedSendConnection,
  Traffic,
} from '../../src/core/ports/metrics.ts';
import type { RandomSource } from '../../src/core/ports/random.ts';
import type { Cancel, Scheduler } from '../../src/core/ports/scheduler.ts';

/**
 * Fakes of the core's ports for tests that run the core alone: time moves only
 * when the test says so, timers and the group commit run only when the test
 * runs them, randomness is a fixed sequence. No I/O.
 */

/**
 * Lets every promise chain already started run to its end: the in-memory store
 * answers at once, so what the core awaits settles within one macrotask turn.
 */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class ManualClock implements Clock {
  time: number;
  constructor(time: number) {
    this.time = time;
  }
  now(): number {
    return this.time;
  }
  monotonic(): number {
    return this.time;
  }
}

interface Timer {
  at: number;
  readonly period: number | undefined;
  readonly task: () => void;
  cancelled: boolean;
}

/** Timers on a ManualClock: `advance` moves the clock and runs what fell due; `runIo` runs the afterIo tasks. */
export class ManualScheduler implements Scheduler {
  readonly #clock: ManualClock;
  readonly #timers: Timer[] = [];
  #io: (() => void)[] = [];

  constructor(clock: ManualClock) {
    this.#clock = clock;
  }

  after(delayMs: number, task: () => void): Cancel {
    return this.#add({ at: this.#clock.time + delayMs, period: undefined, task, cancelled: false });
  }

  every(periodMs: number, task: () => void): Cancel {
    return this.#add({ at: this.#clock.time + periodMs, period: periodMs, task, cancelled: false });
  }

  afterIo(task: () => void): void {
    this.#io.push(task);
  }

  /** Runs the afterIo tasks queued so far and those they queue, letting what they start settle. */
  async runIo(): Promise<void> {
    for (;;) {
      await settle();
      if (this.#io.length === 0) return;
      for (const task of this.#io.splice(0)) task();
    }
  }

  /** Moves the clock by `ms`, running each timer that falls due and letting what it starts settle. */
  async advance(ms: number): Promise<void> {
    const end = this.#clock.time + ms;
    for (;;) {
      const due = this.#timers.filter((t) => !t.cancelled && t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.#clock.time = due.at;
      if (due.period === undefined) due.cancelled = true;
      else due.at += due.period;
      due.task();
      await this.runIo();
    }
    this.#clock.time = end;
  }

  get pendingTimers(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  #add(timer: Timer): Cancel {
    this.#timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }
}

/** Bytes 0, 1, 2, … (distinct per call, not random at all). */
export function countingRandom(): RandomSource {
  let next = 0;
  return {
    bytes(length) {
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i++) out[i] = next++ & 0xff;
      return out;
    },
  };
}

/** A stand-in MAC: 32 bytes depending on every message byte and a key byte (not a secure MAC). */
export function fakeMac(keyByte: number): MessageAuthenticator {
  return (message) => {
    const mac = new Uint8Array(32).fill(keyByte);
    for (const [i, byte] of message.entries()) mac[i % 32] = (mac[i % 32]! * 31 + byte + 1) & 0xff;
    return mac;
  };
}

export const silentLogger: Logger = { error() {}, info() {}, debug() {} };

/** Metrics kept as plain counts by name and labels, e.g. `limit:websocket:queue_per_device`. */
export class RecordingMetrics implements Metrics {
  readonly counts = new Map<string, number>();
  readonly #traffic = new Map<TransportKind, Traffic>();

  count(name: string): number {
    return this.counts.get(name) ?? 0;
  }

  traffic(transport: TransportKind): Traffic {
    let traffic = this.#traffic.get(transport);
    if (traffic === undefined) {
      traffic = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0 };
      this.#traffic.set(transport, traffic);
    }
    return traffic;
  }
  connectionOpened(transport: TransportKind): void {
    this.#add(`connections:${transport}`, 1);
  }
  connectionClosed(transport: TransportKind): void {
    this.#add(`connections:${transport}`, -1);
  }
  limitHit(transport: TransportKind, limit: string): void {
    this.#add(`limit:${transport}:${limit}`, 1);
  }
  errorSent(transport: TransportKind, code: string): void {
    this.#add(`error:${transport}:${code}`, 1);
  }
  latency(transport: TransportKind, requestType: string): void {
    this.#add(`latency:${transport}:${requestType}`, 1);
  }
  envelopes(event: EnvelopeEvent, count: number): void {
    this.#add(`envelopes:${event}`, count);
  }
  backlogPaused(transport: TransportKind, source: BacklogSource): void {
    this.#add(`paused:${transport}:${source}`, 1);
  }
  ephemeral(transport: TransportKind, event: EphemeralEvent): void {
    this.#add(`ephemeral:${transport}:${event}`, 1);
  }
  eventDropped(transport: TransportKind): void {
    this.#add(`dropped:${transport}`, 1);
  }
  channelsActive(transport: TransportKind | 'all', delta: number): void {
    this.#add(`channels:${transport}`, delta);
  }
  anonymousConnections(transport: TransportKind, delta: number): void {
    this.#add(`anonymous:${transport}`, delta);
  }
  sealedSend(transport: TransportKind, connection: SealedSendConnection): void {
    this.#add(`sealed_send:${transport}:${connection}`, 1);
  }

  #add(name: string, delta: number): void {
    this.counts.set(name, this.count(name) + delta);
  }
}
