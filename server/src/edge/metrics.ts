import type { ReceiveStats } from '@pulse/webtransport';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { TransportKind } from '../core/connection.ts';
import type { EnvelopeEvent, Metrics, Traffic } from '../core/ports/metrics.ts';

/**
 * The core's metrics as Prometheus metrics (README.md "Metrics"), one registry
 * per server instance so several servers can run in one process (tests).
 * Connection and message metrics carry a `transport` label.
 */
export class PrometheusMetrics implements Metrics {
  readonly registry = new Registry();
  readonly connectionsTotal = new Counter({
    name: 'pulse_connections_total',
    help: 'Connections accepted',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });
  readonly connectionsActive = new Gauge({
    name: 'pulse_connections_active',
    help: 'Connections open now',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });
  /**
   * Frame and byte counts are plain numbers on the hot path (fan-out adds to them
   * once per subscriber) and are copied into the counters when scraped.
   */
  readonly #traffic: Record<TransportKind, Traffic> = {
    websocket: { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0 },
    webtransport: { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0 },
    memory: { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0 },
  };
  readonly messagesTotal: Counter<'transport' | 'direction'> = new Counter({
    name: 'pulse_messages_total',
    help: 'Frames received (direction=in) and sent (direction=out)',
    labelNames: ['transport', 'direction'] as const,
    registers: [this.registry],
    collect: (): void => this.#copy(this.messagesTotal, 'framesIn', 'framesOut'),
  });
  readonly messagesBytes: Counter<'transport' | 'direction'> = new Counter({
    name: 'pulse_messages_bytes',
    help: 'Bytes of frames received and sent',
    labelNames: ['transport', 'direction'] as const,
    registers: [this.registry],
    collect: (): void => this.#copy(this.messagesBytes, 'bytesIn', 'bytesOut'),
  });
  readonly channelsActiveGauge = new Gauge({
    name: 'pulse_channels_active',
    help: 'Channels with at least one subscriber on the transport (transport="all": on any)',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });
  readonly latencySeconds = new Histogram({
    name: 'pulse_latency_seconds',
    help: 'Time from receiving a request frame to queueing its answer (includes the durable commit of a send)',
    labelNames: ['transport', 'type'] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly limitViolations = new Counter({
    name: 'pulse_limit_violations_total',
    help: 'Requests or connections refused by a limit',
    labelNames: ['transport', 'limit'] as const,
    registers: [this.registry],
  });
  readonly errorsTotal = new Counter({
    name: 'pulse_errors_total',
    help: 'Error frames sent, by code',
    labelNames: ['transport', 'code'] as const,
    registers: [this.registry],
  });
  readonly envelopesTotal = new Counter({
    name: 'pulse_envelopes_total',
    help: 'Envelopes stored, delivered (sent to a device), acknowledged and expired',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });
  readonly droppedTotal = new Counter({
    name: 'pulse_dropped_events_total',
    help: 'Ephemeral events (presence) dropped for slow consumers',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });

  traffic(transport: TransportKind): Traffic {
    return this.#traffic[transport];
  }

  connectionOpened(transport: TransportKind): void {
    this.connectionsTotal.labels(transport).inc();
    this.connectionsActive.labels(transport).inc();
  }

  connectionClosed(transport: TransportKind): void {
    this.connectionsActive.labels(transport).dec();
  }

  limitHit(transport: TransportKind, limit: string): void {
    this.limitViolations.labels(transport, limit).inc();
  }

  errorSent(transport: TransportKind, code: string): void {
    this.errorsTotal.labels(transport, code).inc();
  }

  latency(transport: TransportKind, requestType: string, seconds: number): void {
    this.latencySeconds.labels(transport, requestType).observe(seconds);
  }

  envelopes(event: EnvelopeEvent, count: number): void {
    this.envelopesTotal.labels(event).inc(count);
  }

  eventDropped(transport: TransportKind): void {
    this.droppedTotal.labels(transport).inc();
  }

  channelsActive(transport: TransportKind | 'all', delta: number): void {
    if (delta > 0) this.channelsActiveGauge.inc({ transport }, delta);
    else this.channelsActiveGauge.dec({ transport }, -delta);
  }

  /**
   * What the WebTransport listener refused or dropped because no session reads it,
   * and the bytes it holds for sessions that have not read them yet (its receive
   * budgets, @pulse/webtransport): read from `stats` when scraped.
   */
  observeWebTransportReceive(stats: () => ReceiveStats): void {
    const counter = (name: string, help: string, key: keyof ReceiveStats) =>
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect(this: Counter) {
          this.reset();
          this.inc(stats()[key]);
        },
      });
    const gauge = (name: string, help: string, key: keyof ReceiveStats) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect(this: Gauge) {
          this.set(stats()[key]);
        },
      });
    counter(
      'pulse_webtransport_streams_refused_total',
      'Incoming streams refused: no session reads them',
      'streamsRefused',
    );
    counter(
      'pulse_webtransport_streams_over_budget_total',
      'Incoming streams stopped because their session or connection receive budget was full',
      'streamsOverBudget',
    );
    counter('pulse_webtransport_datagrams_dropped_total', 'Incoming datagrams dropped unread', 'datagramsDropped');
    counter('pulse_webtransport_dropped_bytes_total', 'Bytes of refused streams and dropped datagrams', 'bytesDropped');
    gauge('pulse_webtransport_receive_buffered_bytes', 'Bytes received and held for sessions to read', 'bufferedBytes');
    gauge(
      'pulse_webtransport_receive_peak_bytes',
      'The most bytes ever held for sessions to read',
      'peakBufferedBytes',
    );
  }

  #copy(counter: Counter<'transport' | 'direction'>, inKey: keyof Traffic, outKey: keyof Traffic): void {
    counter.reset();
    for (const [transport, traffic] of Object.entries(this.#traffic)) {
      if (traffic[inKey] > 0) counter.inc({ transport, direction: 'in' }, traffic[inKey]);
      if (traffic[outKey] > 0) counter.inc({ transport, direction: 'out' }, traffic[outKey]);
    }
  }
}
