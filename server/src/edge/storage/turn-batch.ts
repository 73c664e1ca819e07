interface Entry<T, R> {
  readonly item: T;
  readonly resolve: (result: R) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Gathers the calls of one event-loop turn and runs them as one: `add` queues
 * an item and returns its result's promise; after the turn's I/O callbacks
 * (setImmediate) `run` gets every item queued meanwhile, in order, and returns
 * one result per item. If `run` throws, every item of the batch fails with it.
 *
 * The SQLite store uses it for `deliver_ack` (issue 15): the acks of every
 * device read in one turn become ONE delete transaction, so one fsync, instead
 * of one transaction and fsync each.
 */
export class TurnBatch<T, R> {
  readonly #run: (items: readonly T[]) => R[];
  #entries: Entry<T, R>[] = [];
  #scheduled = false;

  constructor(run: (items: readonly T[]) => R[]) {
    this.#run = run;
  }

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#entries.push({ item, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Runs what is queued now (also before the store closes). */
  flush(): void {
    this.#scheduled = false;
    const entries = this.#entries;
    if (entries.length === 0) return;
    this.#entries = [];
    let results: R[];
    try {
      results = this.#run(entries.map((entry) => entry.item));
    } catch (error) {
      for (const entry of entries) entry.reject(error);
      return;
    }
    for (const [i, entry] of entries.entries()) entry.resolve(results[i]!);
  }
}
