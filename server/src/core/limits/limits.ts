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
  /** Authentication attempts (register, auth, auth_token) per IP address per minute. */
  readonly authAttempts: number;
  /** Envelopes waiting for one device; a send beyond it fails with QUEUE_FULL. */
  readonly queuePerDevice: number;
  /** Bytes buffered towards one connection before the slow-consumer policy applies. */
  readonly sendQueueBytes: number;
  /** Envelopes delivered to a device but not yet acknowledged (flow-control window). */
  readonly deliveryWindow: number;
  /** Time an undelivered envelope is kept, in milliseconds (default 30 days). */
  readonly envelopeTtl: number;
  /** Devices per account. */
  readonly maxDevices: number;
  /** Bundle fetches per requesting account per minute. */
  readonly prekeyFetches: number;
  /** The owner hears `prekeys_low` when a device's one-time prekeys fall below this. */
  readonly prekeysLowThreshold: number;
  /** One-time prekeys (of each kind) stored per device. */
  readonly maxPrekeysPerDevice: number;
  /** Messages kept per channel for replay. */
  readonly historySize: number;
  /** Bytes of channel history kept in memory over all channels. */
  readonly historyBytes: number;
  /** Channels alive on the server at once. */
  readonly maxChannelsTotal: number;
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
  authAttempts: 20,
  queuePerDevice: 10_000,
  sendQueueBytes: 4 * 1024 * 1024,
  deliveryWindow: 256,
  envelopeTtl: 30 * 24 * 60 * 60 * 1000,
  maxDevices: 16,
  prekeyFetches: 60,
  prekeysLowThreshold: 10,
  maxPrekeysPerDevice: 500,
  historySize: 200,
  historyBytes: 64 * 1024 * 1024,
  maxChannelsTotal: 100_000,
  tokenTtl: 24 * 60 * 60 * 1000,
});
