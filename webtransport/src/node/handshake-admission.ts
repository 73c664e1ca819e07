/**
 * Which QUIC Initials may open a connection (RFC 9000 §7, §8.1, §14.1), so a
 * flood of handshakes cannot fill the connection table: plain bookkeeping and
 * decisions, no I/O; the server sends what it is told and arms the timers.
 *
 * In order: an Initial under 1,200 bytes is dropped before anything else (also
 * before Version Negotiation: a small spoofed packet must not make the server
 * answer, §14.1); then versions; then the connection cap; then, with more than
 * `retryAbove` handshakes in progress, a client whose address is not validated
 * gets a stateless Retry (§8.1.2); then the cap on handshakes in progress, in
 * total and per source (IPv4 address, or IPv6 /64). A handshake that is not
 * done within `handshakeTimeoutMs` is dropped.
 */
import { sourceKey } from './source-key.ts';

/** RFC 9000 §14.1: a client's Initial fills at least 1,200 bytes. */
export const MIN_INITIAL_BYTES = 1200;

export interface AdmissionLimits {
  /** QUIC handshakes in progress (not yet established) over all sources. */
  readonly maxHandshakes: number;
  /** QUIC handshakes in progress from one source (IPv4 address, IPv6 /64). */
  readonly maxHandshakesPerSource: number;
  /** A handshake not established within this many milliseconds is dropped. */
  readonly handshakeTimeoutMs: number;
  /** With more handshakes than this in progress, unvalidated clients get a Retry first; 0: always. */
  readonly retryAbove: number;
}

export const DEFAULT_ADMISSION_LIMITS: AdmissionLimits = Object.freeze({
  maxHandshakes: 1_000,
  maxHandshakesPerSource: 10,
  handshakeTimeoutMs: 5_000,
  retryAbove: 100,
});

/** Defaults with overrides applied; `retryAbove` may be 0, the others are positive integers. */
export function admissionLimits(overrides: Partial<AdmissionLimits> = {}): AdmissionLimits {
  const limits = { ...DEFAULT_ADMISSION_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    const min = name === 'retryAbove' ? 0 : 1;
    if (!Number.isSafeInteger(value) || value < min) {
      throw new RangeError(`QUIC admission limit ${name} must be an integer >= ${min}, got ${String(value)}`);
    }
  }
  return Object.freeze(limits);
}

/** Why an Initial opened nothing (labels of `initialsDropped`). */
export type DropReason =
  | 'too_small'
  | 'not_initial'
  | 'max_connections'
  | 'invalid_token'
  | 'max_handshakes'
  | 'max_handshakes_per_source';

/** What to do with a packet that belongs to no connection. */
export type Admission =
  | { readonly action: 'drop'; readonly reason: DropReason }
  | { readonly action: 'version-negotiation' }
  | { readonly action: 'retry' }
  | { readonly action: 'accept' };

/** What the server has refused and holds, for metrics. */
export interface HandshakeStats {
  readonly handshakesInProgress: number;
  readonly versionNegotiationsSent: number;
  readonly retriesSent: number;
  readonly handshakeTimeouts: number;
  readonly initialsDropped: Readonly<Record<DropReason, number>>;
}

/** What the server knows of a packet that matched no connection. */
export interface InitialFacts {
  readonly length: number;
  readonly versionSupported: boolean;
  readonly isInitial: boolean;
  /** Whether it carries a token, and whether that token validated (a Retry we sent). */
  readonly token: 'none' | 'valid' | 'invalid';
  readonly sourceHost: string;
  readonly connections: number;
  readonly maxConnections: number;
}

export class HandshakeAdmission {
  readonly limits: AdmissionLimits;
  readonly #perSource = new Map<string, number>();
  #inProgress = 0;
  #versionNegotiations = 0;
  #retries = 0;
  #timeouts = 0;
  readonly #dropped: Record<DropReason, number> = {
    too_small: 0,
    not_initial: 0,
    max_connections: 0,
    invalid_token: 0,
    max_handshakes: 0,
    max_handshakes_per_source: 0,
  };

  constructor(limits: Partial<AdmissionLimits> = {}) {
    this.limits = admissionLimits(limits);
  }

  /** Decides about a long-header packet that matched no connection; counts what it refuses. */
  decide(facts: InitialFacts): Admission {
    const drop = (reason: DropReason): Admission => {
      this.#dropped[reason] += 1;
      return { action: 'drop', reason };
    };
    if (facts.length < MIN_INITIAL_BYTES) return drop('too_small');
    if (!facts.versionSupported) {
      this.#versionNegotiations += 1;
      return { action: 'version-negotiation' };
    }
    if (!facts.isInitial) return drop('not_initial');
    if (facts.connections >= facts.maxConnections) return drop('max_connections');
    if (facts.token === 'invalid') return drop('invalid_token');
    if (facts.token === 'none' && this.#inProgress >= this.limits.retryAbove) {
      this.#retries += 1;
      return { action: 'retry' };
    }
    if (this.#inProgress >= this.limits.maxHandshakes) return drop('max_handshakes');
    const fromSource = this.#perSource.get(sourceKey(facts.sourceHost)) ?? 0;
    if (fromSource >= this.limits.maxHandshakesPerSource) return drop('max_handshakes_per_source');
    return { action: 'accept' };
  }

  /**
   * A handshake began from `sourceHost`; the returned function ends it (done,
   * failed or timed out), once, however often it is called.
   */
  begin(sourceHost: string): () => void {
    const key = sourceKey(sourceHost);
    this.#inProgress += 1;
    this.#perSource.set(key, (this.#perSource.get(key) ?? 0) + 1);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.#inProgress -= 1;
      const left = (this.#perSource.get(key) ?? 1) - 1;
      if (left <= 0) this.#perSource.delete(key);
      else this.#perSource.set(key, left);
    };
  }

  /** A handshake ran out of time. */
  timedOut(): void {
    this.#timeouts += 1;
  }

  stats(): HandshakeStats {
    return {
      handshakesInProgress: this.#inProgress,
      versionNegotiationsSent: this.#versionNegotiations,
      retriesSent: this.#retries,
      handshakeTimeouts: this.#timeouts,
      initialsDropped: { ...this.#dropped },
    };
  }
}
