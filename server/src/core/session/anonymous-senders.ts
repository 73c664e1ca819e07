import { UNKNOWN_ADDRESS } from '../connection.ts';
import type { ServerLimits } from '../limits/limits.ts';
import { KeyedBuckets, TokenBucket } from '../limits/token-bucket.ts';

/**
 * Anonymous connections (PROTOCOL.md "Anonymous connections"): a client says
 * `hello` with `anonymous: true`, never authenticates, and may only
 * `sealed_send`, so the server handles a sealed envelope without knowing which
 * account sent it. Such a connection proves nothing, so it gets bounds of its
 * own instead of living on the unauthenticated budget: a count in total and
 * per address (`max_anonymous`, `max_anonymous_per_ip`), an idle time
 * (`anonymous_idle`), and a `sealed_send` rate per connection and per address
 * (`anonymous_send_rate`/`_burst`, `anonymous_send_rate_per_ip`/`_burst_per_ip`).
 * Who may send to whom is the delivery token's business (requests/sealed.ts).
 *
 * Nothing here is logged, and nothing here knows an account: an address is
 * only ever counted, never paired with anything.
 */

/** The `limit` label of what refused an anonymous connection or a sealed send on one. */
export type AnonymousLimit =
  | 'max_anonymous'
  | 'max_anonymous_per_ip'
  | 'anonymous_send_rate'
  | 'anonymous_send_rate_per_ip';

export type AnonymousLimits = Pick<
  ServerLimits,
  | 'maxAnonymous'
  | 'maxAnonymousPerIp'
  | 'anonymousIdle'
  | 'anonymousSendRate'
  | 'anonymousSendBurst'
  | 'anonymousSendRatePerIp'
  | 'anonymousSendBurstPerIp'
>;

/** A sealed send refused by a rate: which one, and when to retry. */
export interface AnonymousRefusal {
  readonly limit: AnonymousLimit;
  readonly retryAfterMs: number;
}

/** The anonymous connections of one server. */
export class AnonymousSenders {
  readonly #limits: AnonymousLimits;
  readonly #perAddress = new Map<string, number>();
  readonly #sendsPerAddress: KeyedBuckets;
  #total = 0;

  constructor(limits: AnonymousLimits) {
    this.#limits = limits;
    this.#sendsPerAddress = new KeyedBuckets(limits.anonymousSendRatePerIp, limits.anonymousSendBurstPerIp);
  }

  /** Anonymous connections open now. */
  get count(): number {
    return this.#total;
  }

  /**
   * A connection from `address` asks to be anonymous: its pass, or the limit
   * that refuses it. A transport that cannot name the peer (UNKNOWN_ADDRESS)
   * is bounded by the total only, as the router does for connections.
   */
  admit(address: string, now: number): AnonymousPass | AnonymousLimit {
    if (this.#total >= this.#limits.maxAnonymous) return 'max_anonymous';
    const known = address !== UNKNOWN_ADDRESS;
    const fromAddress = this.#perAddress.get(address) ?? 0;
    if (known && fromAddress >= this.#limits.maxAnonymousPerIp) return 'max_anonymous_per_ip';
    this.#total += 1;
    if (known) this.#perAddress.set(address, fromAddress + 1);
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      this.#total -= 1;
      if (!known) return;
      const left = (this.#perAddress.get(address) ?? 1) - 1;
      if (left <= 0) this.#perAddress.delete(address);
      else this.#perAddress.set(address, left);
    };
    const takeFromAddress = (at: number) => (known ? this.#sendsPerAddress.take(address, at) : 0);
    return new AnonymousPass(this.#limits, now, takeFromAddress, release);
  }

  /** Forgets the full per-address buckets (the router's tick, now and then). */
  sweep(now: number): void {
    this.#sendsPerAddress.sweep(now);
  }
}

/** One anonymous connection's share: its send rate, its idle clock, and its place in the counts. */
export class AnonymousPass {
  readonly #idleMs: number;
  readonly #sends: TokenBucket;
  readonly #takeFromAddress: (now: number) => number;
  readonly #release: () => void;
  #lastSendAt: number;

  constructor(limits: AnonymousLimits, now: number, takeFromAddress: (now: number) => number, release: () => void) {
    this.#idleMs = limits.anonymousIdle;
    this.#sends = new TokenBucket(limits.anonymousSendRate, limits.anonymousSendBurst, now);
    this.#takeFromAddress = takeFromAddress;
    this.#release = release;
    // The idle clock starts at `welcome`: a connection that never sends is closed after `anonymous_idle`.
    this.#lastSendAt = now;
  }

  /** One `sealed_send`: undefined when the connection's and the address's rates allow it, else the refusal. */
  takeSend(now: number): AnonymousRefusal | undefined {
    const connectionWait = this.#sends.take(now);
    if (connectionWait > 0) return { limit: 'anonymous_send_rate', retryAfterMs: connectionWait };
    const addressWait = this.#takeFromAddress(now);
    if (addressWait > 0) return { limit: 'anonymous_send_rate_per_ip', retryAfterMs: addressWait };
    this.#lastSendAt = now;
    return undefined;
  }

  /** True once no `sealed_send` was accepted for `anonymous_idle` (pings do not count: they cost nothing to fake). */
  isIdle(now: number): boolean {
    return now - this.#lastSendAt > this.#idleMs;
  }

  /** The connection ended: it leaves the counts (once). */
  release(): void {
    this.#release();
  }
}
