import type { ServerLimits } from './limits/limits.ts';

/**
 * What the core is told by whoever runs it (edge/config maps the configuration
 * file onto this): every limit, the heartbeat, and how often expired envelopes
 * are purged.
 */
export interface CoreSettings {
  readonly limits: ServerLimits;
  /** Milliseconds: a silent connection gets a `ping` after `interval` and is closed after `timeout`. */
  readonly heartbeat: { readonly interval: number; readonly timeout: number };
  /** Milliseconds between purges of expired envelopes. */
  readonly purgeIntervalMs: number;
}

export const DEFAULT_PURGE_INTERVAL_MS = 60_000;
