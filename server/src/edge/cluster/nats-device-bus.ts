import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { DeviceBus, DeviceNotice, DeviceSubscription } from '../../core/ports/device-bus.ts';
import type { Address } from '../../core/store.ts';
import { DeviceSubjects } from './device-subjects.ts';
import { decodeNotice, encodeNotice } from './notice-codec.ts';

/** How long after a subscription is in place the hub pumps its session once more (DeviceBus.settleMs). */
const SETTLE_MS = 1_000;

export interface NatsDeviceBusOptions {
  /** `nats://host:port` URLs of the cluster's NATS (`[cluster] nats`, as the store). */
  readonly servers: readonly string[];
  /** First token of every subject (default `pulse`, as the store's names). */
  readonly prefix?: string;
  /** Keys the hash in subject names (device-subjects.ts); the same on every node. */
  readonly subjectKey: Uint8Array;
  /** A notice heard that is not one (dropped). */
  readonly onMalformed?: () => void;
  /** A notice too large to send (dropped; the device sees it on its own node only). */
  readonly onOversized?: (type: string) => void;
  /** A notice published (metrics). */
  readonly onSent?: (type: DeviceNotice['type']) => void;
  /** A notice heard (metrics). */
  readonly onReceived?: (type: DeviceNotice['type']) => void;
}

/**
 * DeviceBus on NATS core pub/sub (no JetStream: notices are hints, the
 * envelopes themselves are already in the stream). Its own connection beside
 * the store's, so a notice never waits behind JetStream traffic. Publishing
 * never waits: a notice goes out with the connection's next write. While NATS
 * is unreachable the client buffers what is published and resubscribes on
 * reconnect; the hub then pumps every session (`onResumed`), as notices may
 * have been lost.
 */
export class NatsDeviceBus implements DeviceBus {
  /** Interest crosses a NATS cluster's routes in well under this (same data centre). */
  readonly settleMs = SETTLE_MS;
  readonly #subjects: DeviceSubjects;
  readonly #options: NatsDeviceBusOptions;
  readonly #connection: Promise<NatsConnection>;
  #nc: NatsConnection | undefined;
  readonly #resumed: Array<() => void> = [];
  #closed = false;

  constructor(options: NatsDeviceBusOptions) {
    if (options.servers.length === 0) throw new Error('the cluster bus needs at least one NATS URL');
    this.#options = options;
    this.#subjects = new DeviceSubjects(options.prefix ?? 'pulse', options.subjectKey);
    this.#connection = connect({
      servers: [...options.servers],
      name: 'pulse-bus',
      waitOnFirstConnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      pingInterval: 2_000,
      maxPingOut: 2,
    });
    this.#connection.then(
      (nc) => {
        this.#nc = nc;
        if (this.#closed) void nc.close();
        else void this.#watch(nc);
      },
      () => {},
    );
  }

  /** Settles once connected the first time (rejects on a configuration NATS refuses). */
  get ready(): Promise<void> {
    return this.#connection.then(() => {});
  }

  subscribe(device: Address, onNotice: (notice: DeviceNotice) => void): DeviceSubscription {
    const subject = this.#subjects.of(device);
    let subscription: Subscription | undefined;
    let stopped = false;
    const ready = this.#connection.then((nc) => {
      if (stopped || this.#closed) return;
      subscription = nc.subscribe(subject, {
        callback: (error, message) => {
          if (error !== null) return;
          const notice = decodeNotice(message.data);
          if (notice === undefined) {
            this.#options.onMalformed?.();
            return;
          }
          this.#options.onReceived?.(notice.type);
          onNotice(notice);
        },
      });
      // Once the server answered a PING sent after the SUB, it routes this subject here.
      return nc.flush();
    });
    return {
      ready,
      stop: () => {
        stopped = true;
        subscription?.unsubscribe();
      },
    };
  }

  publish(device: Address, notice: DeviceNotice): void {
    const nc = this.#nc;
    // Not connected yet: nobody can be subscribed through us; the envelopes wait in the store.
    if (nc === undefined || nc.isClosed()) return;
    const bytes = encodeNotice(notice);
    if (bytes === undefined) {
      this.#options.onOversized?.(notice.type);
      return;
    }
    nc.publish(this.#subjects.of(device), bytes);
    this.#options.onSent?.(notice.type);
  }

  onResumed(handler: () => void): void {
    this.#resumed.push(handler);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const nc = this.#nc;
    if (nc !== undefined && !nc.isClosed()) await nc.close();
  }

  async #watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (this.#closed) return;
      if (status.type === 'reconnect') for (const handler of this.#resumed) handler();
    }
  }
}
