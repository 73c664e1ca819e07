import type { ReceiveStats } from '@pulse/webtransport';
import type { HandshakeStats } from '@pulse/webtransport/node';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { TransportKind } from '../core/connection.ts';
import type {
  BacklogSource,
  EnvelopeEvent,
  EphemeralEvent,
  Metrics,
  SealedSendConnection,
  Traffic,
} from '../core/ports/metrics.ts';

/** A notice between nodes: published, heard, or dropped (malformed when heard, too large to send). */
export type ClusterNoticeDirection = 'sent' | 'received' | 'dropped';

/**
 * The core's metrics as Prometheus metrics (README.md "Metrics"), one registry
 * per server instance so several servers can run in one process (tests).
 * Connection and message metrics carry a `transport` label.
 */
export class PrometheusMetrics implements Metrics {
  readonly registry = PrometheusMetrics.#processRegistry();
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
    help: 'Ephemeral events (presence, ephemeral frames on the stream) dropped for slow consumers',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });

  readonly ephemeralTotal = new Counter({
    name: 'pulse_ephemeral_total',
    help: 'Ephemeral envelopes (typing, read cursors): relayed to a connected device, dropped as offline, sent or received in WebTransport datagrams, or too large for one',
    labelNames: ['transport', 'event'] as const,
    registers: [this.registry],
  });

  readonly anonymousConnectionsGauge = new Gauge({
    name: 'pulse_connections_anonymous',
    help: 'Anonymous connections (sealed sends only, never authenticated) open now (bounded by limits.max_anonymous)',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });

  readonly sealedSendsTotal = new Counter({
    name: 'pulse_sealed_sends_total',
    help: 'sealed_send requests whose delivery token held, by connection: anonymous (the server never knew the sender) or authenticated (the SDK fallback)',
    labelNames: ['transport', 'connection'] as const,
    registers: [this.registry],
  });

  readonly backlogPausedTotal = new Counter({
    name: 'pulse_backlog_paused_total',
    help: 'Bulk sends (stored envelopes, channel replay) paused for a full receiver buffer; they resume as it drains',
    labelNames: ['transport', 'source'] as const,
    registers: [this.registry],
  });

  readonly clusterNoticesTotal = new Counter({
    name: 'pulse_cluster_notices_total',
    help: 'Cluster mode: notices between nodes (device bus, link approvals) sent, received, and dropped (type="malformed": heard, not a notice; else too large to send)',
    labelNames: ['direction', 'type'] as const,
    registers: [this.registry],
  });

  /** A notice between nodes (edge/cluster/): `type` is the notice's (wake, claim, frame, ..., link_approved). */
  clusterNotice(direction: ClusterNoticeDirection, type: string): void {
    this.clusterNoticesTotal.labels(direction, type).inc();
  }

  /** `pulse_store_available`: 1 while the store can be used (cluster mode: NATS reachable), read when scraped. */
  /** SQLite: writes at the writer thread not answered yet (bound: `storage.max_writes_in_flight`). */
  observeStoreWrites(inFlight: () => number): void {
    new Gauge({
      name: 'pulse_store_writes_in_flight',
      help: 'SQLite writes handed to the writer thread and not answered yet (at most storage.max_writes_in_flight)',
      registers: [this.registry],
      collect(this: Gauge) {
        this.set(inFlight());
      },
    });
  }

  observeStore(available: () => boolean): void {
    new Gauge({
      name: 'pulse_store_available',
      help: 'Whether the store can be used now (1) or not (0: cluster mode without NATS; /healthz answers 503)',
      registers: [this.registry],
      collect(this: Gauge) {
        this.set(available() ? 1 : 0);
      },
    });
  }

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

  backlogPaused(transport: TransportKind, source: BacklogSource): void {
    this.backlogPausedTotal.labels(transport, source).inc();
  }

  ephemeral(transport: TransportKind, event: EphemeralEvent): void {
    this.ephemeralTotal.labels(transport, event).inc();
  }

  eventDropped(transport: TransportKind): void {
    this.droppedTotal.labels(transport).inc();
  }

  channelsActive(transport: TransportKind | 'all', delta: number): void {
    if (delta > 0) this.channelsActiveGauge.inc({ transport }, delta);
    else this.channelsActiveGauge.dec({ transport }, -delta);
  }

  anonymousConnections(transport: TransportKind, delta: number): void {
    if (delta > 0) this.anonymousConnectionsGauge.inc({ transport }, delta);
    else this.anonymousConnectionsGauge.dec({ transport }, -delta);
  }

  sealedSend(transport: TransportKind, connection: SealedSendConnection): void {
    this.sealedSendsTotal.labels(transport, connection).inc();
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

  /** The edge's own bounds (README "Limits"): connections not authenticated yet, bytes held in partial frames, flooders' penalties. */
  observeEdge(
    stats: () => {
      readonly unauthenticated: number;
      readonly partialFrameBytes: number;
      readonly penalisedAddresses: number;
      readonly penaltiesEvicted: number;
    },
  ): void {
    new Gauge({
      name: 'pulse_connections_unauthenticated',
      help: 'Connections that have not authenticated yet (bounded by server.max_unauthenticated)',
      registers: [this.registry],
      collect(this: Gauge) {
        this.set(stats().unauthenticated);
      },
    });
    new Gauge({
      name: 'pulse_rate_penalty_addresses',
      help: 'Addresses refused new connections after flooding (bounded by limits.rate_penalty_addresses)',
      registers: [this.registry],
      collect(this: Gauge) {
        this.set(stats().penalisedAddresses);
      },
    });
    new Counter({
      name: 'pulse_rate_penalties_evicted_total',
      help: 'Flooding penalties forgotten before their end because the table was full',
      registers: [this.registry],
      collect(this: Counter) {
        this.reset();
        this.inc(stats().penaltiesEvicted);
      },
    });
    new Gauge({
      name: 'pulse_partial_frame_bytes',
      help: 'Bytes held in frames received in part, over all connections (bounded by server.partial_frame_bytes)',
      registers: [this.registry],
      collect(this: Gauge) {
        this.set(stats().partialFrameBytes);
      },
    });
  }

  /** The QUIC listener's handshake admission (@pulse/webtransport/node): read from `stats` when scraped. */
  observeQuicHandshakes(stats: () => HandshakeStats): void {
    const counter = (name: string, help: string, read: (s: HandshakeStats) => number) =>
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect(this: Counter) {
          this.reset();
          this.inc(read(stats()));
        },
      });
    new Gauge({
      name: 'pulse_quic_handshakes_in_progress',
      help: 'QUIC handshakes begun and not yet established (bounded by quic.max_handshakes)',
      registers: [this.registry],
      collect(this: Gauge) {
        this.set(stats().handshakesInProgress);
      },
    });
    new Counter({
      name: 'pulse_quic_initials_dropped_total',
      help: 'QUIC packets that opened no connection, by reason',
      labelNames: ['reason'] as const,
      registers: [this.registry],
      collect(this: Counter<'reason'>) {
        this.reset();
        for (const [reason, count] of Object.entries(stats().initialsDropped)) this.inc({ reason }, count);
      },
    });
    counter(
      'pulse_quic_retries_sent_total',
      'Stateless Retry packets sent (address validation under load)',
      (s) => s.retriesSent,
    );
    counter(
      'pulse_quic_version_negotiations_total',
      'Version Negotiation packets sent',
      (s) => s.versionNegotiationsSent,
    );
    counter(
      'pulse_quic_handshake_timeouts_total',
      'QUIC handshakes dropped after quic.handshake_timeout',
      (s) => s.handshakeTimeouts,
    );
  }

  /**
   * A registry holding prom-client's default metrics: the process's CPU time and
   * resident memory (`process_cpu_seconds_total`, `process_resident_memory_bytes`),
   * the Node heap (`nodejs_heap_size_used_bytes`) and event-loop delay
   * (`nodejs_eventloop_lag_seconds`, `nodejs_eventloop_lag_p99_seconds`): what an
   * operator watches to see a flood cost the server (docs/reliability.md).
   */
  static #processRegistry(): Registry {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    return registry;
  }

  #copy(counter: Counter<'transport' | 'direction'>, inKey: keyof Traffic, outKey: keyof Traffic): void {
    counter.reset();
    for (const [transport, traffic] of Object.entries(this.#traffic)) {
      if (traffic[inKey] > 0) counter.inc({ transport, direction: 'in' }, traffic[inKey]);
      if (traffic[outKey] > 0) counter.inc({ transport, direction: 'out' }, traffic[outKey]);
    }
  }
}
