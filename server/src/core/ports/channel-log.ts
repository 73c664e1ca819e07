/**
 * The channel log port (issue 14 "Durable channel history", issue 13 channels
 * across nodes): each channel's publications in offset order, kept within a
 * budget, surviving restarts. Implementations: `MemoryChannelLog` (tests, a
 * store that is not SQLite), `SqliteChannelLog` (edge/storage), the JetStream
 * log in cluster mode (edge/cluster/channels). Payloads are kept exactly as the
 * client sent them (ciphertext on encrypted channels); the log reads nothing in them.
 *
 * Offsets count one channel's publications from 1, densely, within an `epoch`.
 * The epoch is random, made when the log first hears of the channel, and is
 * replaced only when the channel's history was really lost (its log record was
 * dropped, the database replaced): a client holding `{epoch, offset}` then learns
 * `recovered: false` instead of a silent hole (PROTOCOL.md "Channels").
 */

/** Where a channel stands: its epoch and the offset of its latest publication (0: none yet). */
export interface ChannelPosition {
  readonly epoch: string;
  readonly offset: number;
}

/** A publication as the log keeps it: who published, when, and the opaque payload. */
export interface ChannelRecord {
  readonly account: string;
  readonly deviceId: number;
  readonly serverTime: number;
  readonly payload: Uint8Array;
}

export interface ChannelEntry extends ChannelRecord {
  readonly offset: number;
}

/**
 * What the log keeps (README "Limits": history_size, history_age, history_bytes,
 * history_bytes_per_account). Entries beyond a bound are trimmed oldest first;
 * replay across a trimmed entry answers recovered=false.
 */
export interface ChannelLogBudget {
  /** Publications kept per channel. */
  readonly maxEntries: number;
  /** Milliseconds a publication is kept. */
  readonly maxAgeMs: number;
  /** Bytes of payload kept over all channels. */
  readonly maxBytes: number;
  /**
   * Bytes of one account's payloads kept: beyond, its own oldest entries in the
   * channel go first, else the publication gets its offset and is not kept.
   */
  readonly maxBytesPerAccount: number;
  /** Channels the log keeps a position for (max_channels_total): the oldest without history go first. */
  readonly maxChannels: number;
}

/** A read after an offset: the channel's position and what follows `after`, oldest first. */
export interface ChannelRead {
  readonly position: ChannelPosition;
  readonly entries: readonly ChannelEntry[];
  /** True when `entries` holds every publication after `after` up to the position (no hole, none trimmed). */
  readonly complete: boolean;
}

/** A channel being followed. */
export interface Following {
  /** Settles once every publication appended from now on will be heard (cluster mode: the consumer is placed). */
  readonly ready: Promise<void>;
  stop(): void;
}

export interface ChannelLog {
  /** The channel's position, creating its epoch if the log has not heard of it. */
  position(channel: string): Promise<ChannelPosition>;
  /**
   * Appends a publication, trims by the log's budget (ages counted from
   * `record.serverTime`), and resolves with its position (the offset it got).
   * Followers hear of it before this settles when the log is in this process;
   * in cluster mode every node's followers hear of it from the stream.
   */
  append(channel: string, record: ChannelRecord): Promise<ChannelPosition>;
  /**
   * Entries with offsets after `after`, at most `limit`, none older than the
   * age budget at `now` (complete=false when one is missing or more exist).
   */
  read(channel: string, after: number, limit: number, now: number): Promise<ChannelRead>;
  /** Calls `listener` with every publication appended to `channel` from now on, by any node, in offset order. */
  follow(channel: string, listener: (entry: ChannelEntry) => void): Following;
  close(): Promise<void>;
}
