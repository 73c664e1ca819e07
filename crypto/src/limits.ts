/**
 * Every size and count crypto/ enforces, named in one place (libsignal consts.rs does
 * the same). Sessions take a partial override; anything not given uses these defaults.
 */
export interface CryptoLimits {
  /** Double Ratchet MAX_SKIP (spec §3.2): most message keys one incoming message may skip. */
  maxSkip: number;
  /**
   * Chain-key steps one incoming message may cost before its MAC is checked, over every
   * session of the record it is tried on (skipped keys of the old chain and of the new one).
   * Default 2 × maxSkip: the most one genuine message can need.
   */
  maxDerivationsPerMessage: number;
  /**
   * DH ratchet steps (2 X25519 + a key generation each) one incoming message may cost
   * before its MAC is checked, over every session it is tried on. Sessions that need no
   * step are tried first, so this bounds only messages that start a new chain.
   */
  maxRatchetStepsPerMessage: number;
  /** Cap on stored skipped message keys per session; the oldest are evicted first. */
  maxStoredSkippedKeys: number;
  /** Previous remote ratchet keys remembered, to name late duplicates as duplicates. */
  maxPreviousRatchetKeys: number;
  /** Earlier sessions a SessionRecord keeps with one peer device (simultaneous initiation, re-initiation). */
  maxArchivedSessions: number;
  /** Largest plaintext a session or group message may carry. */
  maxPlaintextBytes: number;
  /**
   * Largest sealed-sender message (envelope, certificate and inner message together) opened:
   * checked before any agreement or MAC is computed over it.
   */
  maxSealedMessageBytes: number;
  /** Sender Keys: most iterations one group message may jump ahead. */
  maxSenderKeyForwardJumps: number;
  /** Sender Keys: cap on stored skipped group message keys per sender chain. */
  maxSenderKeyStoredKeys: number;
  /** Sender Keys: chains kept per sender (older ones let late messages decrypt after a rotation). */
  maxSenderKeyStates: number;
}

export const DEFAULT_CRYPTO_LIMITS: Readonly<CryptoLimits> = Object.freeze({
  // libsignal allows 25,000 (consts.rs MAX_FORWARD_JUMPS): see crypto/README.md "Limits" for why Pulse keeps 1,000.
  maxSkip: 1000,
  maxDerivationsPerMessage: 2000,
  maxRatchetStepsPerMessage: 3,
  maxStoredSkippedKeys: 2000,
  maxPreviousRatchetKeys: 16,
  maxArchivedSessions: 10,
  maxPlaintextBytes: 1024 * 1024,
  // maxPlaintextBytes plus room for the inner message's header, MAC and padding and the certificate.
  maxSealedMessageBytes: 1024 * 1024 + 16 * 1024,
  maxSenderKeyForwardJumps: 25_000,
  maxSenderKeyStoredKeys: 2000,
  maxSenderKeyStates: 5,
});

export function resolveLimits(overrides?: Partial<CryptoLimits>): CryptoLimits {
  return { ...DEFAULT_CRYPTO_LIMITS, ...overrides };
}

/**
 * The most a stored record may hold of each kind, whatever the limits are now: beyond
 * these, stored bytes are corrupt and refused. Between a (lowered) limit and these, a record
 * still loads, keeping the newest entries up to the limit, so lowering a limit never makes
 * stored records unreadable.
 */
export const STORED_FORMAT_MAXIMA = Object.freeze({
  skippedKeys: 1 << 16,
  previousRatchetKeys: 1024,
  sessions: 256,
  senderKeyStates: 256,
  senderKeyStoredKeys: 1 << 16,
});
