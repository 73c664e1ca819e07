import type { ServerLimits } from './limits.ts';
import { KeyedBuckets } from './token-bucket.ts';

/** Per minute → per second, for a bucket refilled evenly over the minute. */
const perMinute = (count: number) => count / 60;

/**
 * The rate budgets the core keeps per account, device or pair, beyond the
 * per-connection ones a Session holds (README.md "Limits"). Each is a set of
 * token buckets by key; `sweep` forgets the full ones (the router's tick).
 */
export class Budgets {
  /** Prekey signatures verified, per device (`prekey_signatures`/min). */
  readonly prekeySignatures: KeyedBuckets;
  /** Bundle fetches per (requester, target) (`prekey_fetches_per_pair`/min). */
  readonly fetchesPerPair: KeyedBuckets;
  /** Bundle fetches per target account, whoever asks (`prekey_fetches_per_target`/min). */
  readonly fetchesPerTarget: KeyedBuckets;
  /** Subscribes per account (`channel_joins`/min). */
  readonly channelJoins: KeyedBuckets;

  constructor(limits: ServerLimits) {
    // One whole upload (every one-time PQ key, the signed and last-resort keys, the proof) always fits the bucket.
    const upload = limits.maxPrekeysPerDevice + 3;
    this.prekeySignatures = new KeyedBuckets(
      perMinute(limits.prekeySignatures),
      Math.max(limits.prekeySignatures, upload),
    );
    this.fetchesPerPair = new KeyedBuckets(perMinute(limits.prekeyFetchesPerPair), limits.prekeyFetchesPerPair);
    this.fetchesPerTarget = new KeyedBuckets(perMinute(limits.prekeyFetchesPerTarget), limits.prekeyFetchesPerTarget);
    this.channelJoins = new KeyedBuckets(perMinute(limits.channelJoins), limits.channelJoins);
  }

  sweep(now: number): void {
    this.prekeySignatures.sweep(now);
    this.fetchesPerPair.sweep(now);
    this.fetchesPerTarget.sweep(now);
    this.channelJoins.sweep(now);
  }
}

/** The key of one device in a budget. */
export const deviceKey = (account: string, deviceId: number) => `${account}\u0000${deviceId}`;
