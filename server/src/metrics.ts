import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { TransportKind } from './transport/connection.ts';

/**
 * Prometheus metrics (README.md "Metrics"), one registry per server instance so
 * several servers can run in one process (tests). Connection and message
 * metrics carry a `transport` label.
 */
export class Metrics {
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
  readonly messagesTotal = new Counter({
    name: 'pulse_messages_total',
    help: 'Frames received (direction=in) and sent (direction=out)',
    labelNames: ['transport', 'direction'] as const,
    registers: [this.registry],
  });
  readonly messagesBytes = new Counter({
    name: 'pulse_messages_bytes',
    help: 'Bytes of frames received and sent',
    labelNames: ['transport', 'direction'] as const,
    registers: [this.registry],
  });
  readonly channelsActive = new Gauge({
    name: 'pulse_channels_active',
    help: 'Channels with at least one subscriber (server-wide)',
    registers: [this.registry],
  });
  readonly latency = new Histogram({
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

  /** Pre-bound counters for one transport (label lookups kept off the hot path). */
  forTransport(transport: TransportKind) {
    return {
      framesIn: this.messagesTotal.labels(transport, 'in'),
      framesOut: this.messagesTotal.labels(transport, 'out'),
      bytesIn: this.messagesBytes.labels(transport, 'in'),
      bytesOut: this.messagesBytes.labels(transport, 'out'),
    };
  }
}
