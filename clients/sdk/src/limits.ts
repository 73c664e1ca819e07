/**
 * Every timeout, size and count the client SDK applies, in one place. Callers
 * override any of them through `clientLimits({...})`; the defaults are safe for
 * a chat client on a phone or a laptop.
 */
export interface ClientLimits {
  /** How long WebTransport may take to become `ready` before the SDK falls back to WebSocket. */
  readonly webTransportTimeoutMs: number;
  /** How long a remembered WebTransport failure makes the SDK go straight to WebSocket for that server. */
  readonly transportMemoryMs: number;
  /** How long a WebSocket may take to open. */
  readonly webSocketTimeoutMs: number;
  /** How long `GET /pulse/info` may take. */
  readonly infoTimeoutMs: number;
  /** Largest `/pulse/info` body the SDK reads. */
  readonly maxInfoBytes: number;
  /** How long a request waits for its answer (and for a connection, when offline). */
  readonly requestTimeoutMs: number;
  /** Requests in flight at once; beyond this `request` fails fast instead of queueing without bound. */
  readonly maxPendingRequests: number;
  /** First reconnect delay; doubles per failed attempt up to `reconnectMaxMs` (full jitter). */
  readonly reconnectBaseMs: number;
  readonly reconnectMaxMs: number;
  /** One-time prekeys uploaded per batch (EC and PQ each). */
  readonly preKeyBatch: number;
  /** Envelope ids remembered for deduplication (oldest forgotten first). */
  readonly maxRememberedEnvelopes: number;
  /** Messages kept per conversation in local history (oldest dropped first). */
  readonly maxHistoryPerConversation: number;
  /** Longest message text the SDK sends, in UTF-16 code units. */
  readonly maxTextLength: number;
  /** Members in one group. */
  readonly maxGroupMembers: number;
  /** How long a new device waits for a device of the account to approve its link (the server's link TTL may cut it shorter). */
  readonly linkTimeoutMs: number;
  /** How long the anonymous connection for sealed sends stays open without one (anonymous-connection.ts). */
  readonly anonymousIdleMs: number;
  /** After the anonymous connection failed (refused, closed), how long sealed sends go on the authenticated one. */
  readonly anonymousRetryMs: number;
}

export const DEFAULT_CLIENT_LIMITS: ClientLimits = Object.freeze({
  webTransportTimeoutMs: 2_000,
  transportMemoryMs: 10 * 60_000,
  webSocketTimeoutMs: 5_000,
  infoTimeoutMs: 5_000,
  maxInfoBytes: 64 * 1024,
  requestTimeoutMs: 15_000,
  maxPendingRequests: 512,
  reconnectBaseMs: 250,
  reconnectMaxMs: 15_000,
  preKeyBatch: 20,
  maxRememberedEnvelopes: 5_000,
  maxHistoryPerConversation: 1_000,
  maxTextLength: 16_000,
  maxGroupMembers: 100,
  linkTimeoutMs: 10 * 60_000,
  anonymousIdleMs: 30_000,
  anonymousRetryMs: 60_000,
});

/** Returns limits with `overrides` applied, refusing values that are not positive integers. */
export function clientLimits(overrides: Partial<ClientLimits> = {}): ClientLimits {
  const limits = { ...DEFAULT_CLIENT_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`client limit ${name} must be a positive integer, got ${String(value)}`);
    }
  }
  return Object.freeze(limits);
}
