import type { ServerLimits } from '@pulse/server';

/** Limits loose enough that many test users from one address never hit them. */
export const TEST_LIMITS: Partial<ServerLimits> = {
  authAttempts: 10_000,
  prekeyFetches: 10_000,
  // Tests fetch one account's bundles again and again (replenishment, sessions rebuilt).
  prekeyFetchesPerPair: 10_000,
  prekeyFetchesPerTarget: 10_000,
  maxConnectionsPerIp: 1_000,
  // Every SDK client on this machine seals over its own anonymous connection (PROTOCOL.md "Anonymous connections").
  maxAnonymousPerIp: 1_000,
  anonymousSendRatePerIp: 10_000,
  anonymousSendBurstPerIp: 10_000,
};
