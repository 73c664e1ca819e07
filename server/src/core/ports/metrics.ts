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

/** What a paced bulk send was: the stored backlog of a device, or a channel's history replayed. */
export type BacklogSource = 'envelopes' | 'replay';

/**
 * What happened to an ephemeral envelope (PROTOCOL.md "Ephemeral events"):
 * handed to the addressed device, dropped because that device is not connected
 * to this server, sent to it in a datagram, or on the stream because the frame
 * did not fit one; `datagram_in`: an ephemeral frame received in a datagram.
 */
export type EphemeralEvent = 'relayed' | 'offline' | 'datagram_in' | 'datagram_out' | 'datagram_too_large';

/**
 * The kind of connection a `sealed_send` was accepted on (PROTOCOL.md "Anonymous
 * connections"): one that never authenticated, or the sender's own.
 */
export type SealedSendConnection = 'anonymous' | 'authenticated';

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
  /** An ephemeral event (presence, an `ephemeral` frame on the stream) dropped for a slow consumer. */
  eventDropped(transport: TransportKind): void;
  /** An ephemeral envelope relayed, dropped or carried (`transport`: the sender's, or the receiver's for datagram_out). */
  ephemeral(transport: TransportKind, event: EphemeralEvent): void;
  /** A bulk send paused because the receiver's buffer was full (it resumes as the buffer drains). */
  backlogPaused(transport: TransportKind, source: BacklogSource): void;
  /** A channel gained (+1) or lost (-1) its first/last subscriber on `transport` ('all': on any). */
  channelsActive(transport: TransportKind | 'all', delta: number): void;
  /** An anonymous connection opened (+1) or closed (-1). */
  anonymousConnections(transport: TransportKind, delta: number): void;
  /** A `sealed_send` whose delivery token held, by the kind of connection it came on. */
  sealedSend(transport: TransportKind, connection: SealedSendConnection): void;
}
