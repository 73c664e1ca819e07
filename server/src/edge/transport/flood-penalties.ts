/**
 * Addresses that flooded lately (issue 11): a connection closed `RATE_LIMITED`
 * (more than `rate_refusals` refusals within `rate_refusals_window`) puts its
 * address group here for `rate_penalty` milliseconds, so the flooder cannot
 * come back at once with a fresh connection and a full token bucket.
 *
 * The table holds at most `maxAddresses` entries (`rate_penalty_addresses`):
 * beyond it the oldest penalty is forgotten first (insertion order, which is
 * expiry order since every penalty lasts as long), so a flood from many
 * addresses costs bounded memory and at worst shortens some penalties.
 * Sans-I/O: time is passed in.
 */
export class FloodPenalties {
  readonly #durationMs: number;
  readonly #maxAddresses: number;
  /** Address group → when its penalty ends; in the order penalties began. */
  readonly #until = new Map<string, number>();
  #evicted = 0;

  constructor(durationMs: number, maxAddresses: number) {
    this.#durationMs = durationMs;
    this.#maxAddresses = maxAddresses;
  }

  /** Addresses held now (expired ones included until the next `penalise` sweeps them). */
  get size(): number {
    return this.#until.size;
  }

  /** Penalties forgotten before their end because the table was full. */
  get evicted(): number {
    return this.#evicted;
  }

  /** `address` flooded at `now`: its penalty (re)starts. */
  penalise(address: string, now: number): void {
    this.#until.delete(address);
    this.#sweep(now);
    while (this.#until.size >= this.#maxAddresses) {
      const oldest = this.#until.keys().next().value as string;
      this.#until.delete(oldest);
      this.#evicted += 1;
    }
    this.#until.set(address, now + this.#durationMs);
  }

  /** Milliseconds left of `address`'s penalty at `now`; 0 when it has none. */
  remaining(address: string, now: number): number {
    const until = this.#until.get(address);
    if (until === undefined) return 0;
    if (until > now) return until - now;
    this.#until.delete(address);
    return 0;
  }

  /** Forgets the penalties over at `now`: they sit at the front of the map. */
  #sweep(now: number): void {
    for (const [address, until] of this.#until) {
      if (until > now) return;
      this.#until.delete(address);
    }
  }
}
