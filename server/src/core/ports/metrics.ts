import type { TransportKind } from '../connection.ts';

/** Frame and byte counts of one transport, added to directly on the hot path. */
export interface Traffic {
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
}

/** What happened to envelopes: written, sent to a device, acknowledged, purged unread. */
export type EnvelopeEvent = 'stored' | 'delivered' | 'acked' | 'expired';

/**
 * The metrics the core records (README.md "Metrics"); the edge implements them
 * with prom-client. Labels are plain strings: a transport, a limit's name, an
 * error code, a request type.
 */
export interface Metrics {
  /** The live counters of a transport (the session adds to them; the edge reads them when scraped). */
  traffic(transport: TransportKind): Traffic;
  connectionOpened(transport: TransportKind): void;
  connectionClosed(transport: TransportKind): void;
  /** A request or connection refused by a limit. */
  limitHit(transport: TransportKind, limit: string): void;
  /** An `error` frame sent. */
  errorSent(transport: TransportKind, code: string): void;
  /** Request received → answer queued (type `send_commit`: a send until its `sent`). */
  latency(transport: TransportKind, requestType: string, seconds: number): void;
  envelopes(event: EnvelopeEvent, count: number): void;
  /** An ephemeral event (presence) dropped for a slow consumer. */
  eventDropped(transport: TransportKind): void;
  /** A channel gained (+1) or lost (-1) its first/last subscriber on `transport` ('all': on any). */
  channelsActive(transport: TransportKind | 'all', delta: number): void;
}
