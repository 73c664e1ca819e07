import type { ServerLimits } from '../limits/limits.ts';
import type { ChannelLogBudget } from '../ports/channel-log.ts';

/** The channel log's budget from the limits (README "Limits": history_size, history_age, history_bytes, …). */
export function channelLogBudget(limits: ServerLimits): ChannelLogBudget {
  return {
    maxEntries: limits.historySize,
    maxAgeMs: limits.historyAge,
    maxBytes: limits.historyBytes,
    maxBytesPerAccount: limits.historyBytesPerAccount,
    maxChannels: limits.maxChannelsTotal,
  };
}
