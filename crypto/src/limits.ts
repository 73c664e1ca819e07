/**
 * Every size and count crypto/ enforces, named in one place (libsignal consts.rs does
 * the same). Sessions take a partial override; anything not given uses these defaults.
 */
export interface CryptoLimits {
  /** Double Ratchet MAX_SKIP (spec §3.2): most message keys one incoming message may skip. */
  maxSkip: number;
  /** Cap on stored skipped message keys per session; the oldest are evicted first. */
  maxStoredSkippedKeys: number;
  /** Previous remote ratchet keys remembered, to name late duplicates as duplicates. */
  maxPreviousRatchetKeys: number;
  /** Earlier sessions a SessionRecord keeps with one peer device (simultaneous initiation, re-initiation). */
  maxArchivedSessions: number;
  /** Largest plaintext a session or group message may carry. */
  maxPlaintextBytes: number;
  /** Sender Keys: most iterations one group message may jump ahead. */
  maxSenderKeyForwardJumps: number;
  /** Sender Keys: cap on stored skipped group message keys per sender chain. */
  maxSenderKeyStoredKeys: number;
  /** Sender Keys: chains kept per sender (older ones let late messages decrypt after a rotation). */
  maxSenderKeyStates: number;
}

export const DEFAULT_CRYPTO_LIMITS: Readonly<CryptoLimits> = Object.freeze({
  maxSkip: 1000,
  maxStoredSkippedKeys: 2000,
  maxPreviousRatchetKeys: 16,
  maxArchivedSessions: 10,
  maxPlaintextBytes: 1024 * 1024,
  maxSenderKeyForwardJumps: 25_000,
  maxSenderKeyStoredKeys: 2000,
  maxSenderKeyStates: 5,
});

export function resolveLimits(overrides?: Partial<CryptoLimits>): CryptoLimits {
  return { ...DEFAULT_CRYPTO_LIMITS, ...overrides };
}
