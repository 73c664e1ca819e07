/**
 * Every limit the server enforces, in one place, with safe defaults (the core
 * decides with them; edge/config/config.ts maps the configuration onto them).
 * Each maps to a `[limits]` key in the TOML configuration (snake_case) and to an
 * environment variable `PULSE_LIMITS_<KEY>`. README.md documents them.
 */
export interface ServerLimits {
  /** Open connections over all transports. */
  readonly maxConnections: number;
  /** Open connections from one IP address. */
  readonly maxConnectionsPerIp: number;
  /** Channels one connection may be subscribed to at once. */
  readonly maxChannels: number;
  /** Largest opaque payload (envelope or publication), in bytes. */
  readonly maxMessageSize: number;
  /** Largest encoded frame, in bytes (the transport refuses larger ones). */
  readonly maxFrameBytes: number;
  /** Token bucket per connection: frames per second refilled... */
  readonly rate: number;
  /** ...and the bucket size (burst). */
  readonly rateBurst: number;
  /** Frames refused by `rate`/`rate_bytes` one connection may send within `rate_refusals_window`; one more closes it (RATE_LIMITED)... */
  readonly rateRefusals: number;
  /** ...that window, in milliseconds (a fixed window: accepted frames do not restart it). */
  readonly rateRefusalsWindow: number;
  /** Milliseconds an address (IPv6: its /64) is refused new connections after one of its connections was closed RATE_LIMITED... */
  readonly ratePenalty: number;
  /** ...and how many such addresses the server remembers at once (beyond it, the oldest penalty is forgotten). */
  readonly ratePenaltyAddresses: number;
  /** Token bucket per connection in bytes: bytes per second of frames received... */
  readonly rateBytes: number;
  /** ...and the bucket size (at least max_frame_bytes, so any frame can pass). */
  readonly rateBytesBurst: number;
  /** Ephemeral envelopes (typing, read cursors) one connection may have relayed per second, one per device addressed... */
  readonly ephemeralRate: number;
  /** ...and the bucket size; beyond it they are dropped and counted (PROTOCOL.md "Ephemeral events"). */
  readonly ephemeralBurst: number;
  /** Authentication attempts (register, auth, auth_token) per IP address per minute. */
  readonly authAttempts: number;
  /** Anonymous connections (`hello.anonymous`: sealed sends only, PROTOCOL.md "Anonymous connections"), in total... */
  readonly maxAnonymous: number;
  /** ...and from one IP address (IPv6: its /64); beyond either, `close SERVER_BUSY`. */
  readonly maxAnonymousPerIp: number;
  /** Milliseconds an anonymous connection may go without a `sealed_send` before it is closed (IDLE_TIMEOUT). */
  readonly anonymousIdle: number;
  /** `sealed_send`s per second on one anonymous connection... */
  readonly anonymousSendRate: number;
  /** ...and the bucket size; beyond it RATE_LIMITED with `retryAfterMs`. */
  readonly anonymousSendBurst: number;
  /** `sealed_send`s per second over all anonymous connections from one IP address... */
  readonly anonymousSendRatePerIp: number;
  /** ...and the bucket size. */
  readonly anonymousSendBurstPerIp: number;
  /** Envelopes waiting for one device; a send beyond it fails with QUEUE_FULL. */
  readonly queuePerDevice: number;
  /** Bytes of undelivered envelopes one account has sent and the store still holds (all recipients). */
  readonly senderQueuedBytes: number;
  /** Bytes of undelivered envelopes waiting for one account (all its devices). */
  readonly accountQueuedBytes: number;
  /** Disk high-water mark: sends are refused (STORAGE_FULL) while the database is larger than this... */
  readonly storageMaxBytes: number;
  /** ...or while the disk holding it has less free space than this. Acks and purges go on. */
  readonly storageMinFreeBytes: number;
  /** Bytes buffered towards one connection before the slow-consumer policy applies. */
  readonly sendQueueBytes: number;
  /** Envelopes delivered to a device but not yet acknowledged (flow-control window). */
  readonly deliveryWindow: number;
  /** Time an undelivered envelope is kept, in milliseconds (default 30 days). */
  readonly envelopeTtl: number;
  /** Devices per account. */
  readonly maxDevices: number;
  /** Devices waiting at once to join one account (`link_request`; anyone may ask). */
  readonly maxPendingLinks: number;
  /** Devices waiting at once to join any account of this server. */
  readonly maxPendingLinksTotal: number;
  /** How long a link request waits for approval, in milliseconds. */
  readonly linkTtl: number;
  /** Bundle fetches per requesting account per minute. */
  readonly prekeyFetches: number;
  /** Bundle fetches of one target account by one requesting account per minute. */
  readonly prekeyFetchesPerPair: number;
  /** Bundle fetches of one target account by anyone per minute (its one-time prekeys drain no faster). */
  readonly prekeyFetchesPerTarget: number;
  /** Prekey signatures verified per device per minute: an upload is charged one per signature it carries. */
  readonly prekeySignatures: number;
  /** The owner hears `prekeys_low` when a device's one-time prekeys fall below this. */
  readonly prekeysLowThreshold: number;
  /** One-time prekeys (of each kind) stored per device. */
  readonly maxPrekeysPerDevice: number;
  /** Messages kept per channel for replay. */
  readonly historySize: number;
  /** Bytes of channel history (payloads) kept over all channels, in the channel log. */
  readonly historyBytes: number;
  /** Milliseconds a channel publication is kept for replay. */
  readonly historyAge: number;
  /** Channels alive on the server at once. */
  readonly maxChannelsTotal: number;
  /** Channels alive at once that one account created (by its first subscribe or publish). */
  readonly maxChannelsPerAccount: number;
  /** Bytes of one account's publications kept in channel history (its share of history_bytes). */
  readonly historyBytesPerAccount: number;
  /** Subscribes per account per minute: joins (and the presence events they cause) come no faster. */
  readonly channelJoins: number;
  /** Lifetime of an access token, in milliseconds. */
  readonly tokenTtl: number;
}

export const DEFAULT_LIMITS: ServerLimits = Object.freeze({
  maxConnections: 10_000,
  maxConnectionsPerIp: 100,
  maxChannels: 100,
  maxMessageSize: 256 * 1024,
  maxFrameBytes: 1024 * 1024,
  rate: 200,
  rateBurst: 400,
  rateRefusals: 400,
  rateRefusalsWindow: 10_000,
  ratePenalty: 60_000,
  ratePenaltyAddresses: 10_000,
  rateBytes: 2 * 1024 * 1024,
  rateBytesBurst: 16 * 1024 * 1024,
  ephemeralRate: 50,
  ephemeralBurst: 100,
  authAttempts: 20,
  maxAnonymous: 2_000,
  maxAnonymousPerIp: 32,
  anonymousIdle: 60_000,
  anonymousSendRate: 200,
  anonymousSendBurst: 400,
  anonymousSendRatePerIp: 400,
  anonymousSendBurstPerIp: 800,
  queuePerDevice: 10_000,
  senderQueuedBytes: 256 * 1024 * 1024,
  accountQueuedBytes: 1024 * 1024 * 1024,
  storageMaxBytes: 64 * 1024 * 1024 * 1024,
  storageMinFreeBytes: 1024 * 1024 * 1024,
  sendQueueBytes: 4 * 1024 * 1024,
  deliveryWindow: 256,
  envelopeTtl: 30 * 24 * 60 * 60 * 1000,
  maxDevices: 16,
  maxPendingLinks: 4,
  maxPendingLinksTotal: 10_000,
  linkTtl: 10 * 60 * 1000,
  prekeyFetches: 60,
  prekeyFetchesPerPair: 6,
  prekeyFetchesPerTarget: 120,
  prekeySignatures: 1_200,
  prekeysLowThreshold: 10,
  maxPrekeysPerDevice: 500,
  historySize: 200,
  historyBytes: 64 * 1024 * 1024,
  historyAge: 24 * 60 * 60 * 1000,
  maxChannelsTotal: 100_000,
  maxChannelsPerAccount: 1_000,
  historyBytesPerAccount: 8 * 1024 * 1024,
  channelJoins: 120,
  tokenTtl: 24 * 60 * 60 * 1000,
});
