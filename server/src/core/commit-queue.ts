import { PulseError } from './errors.ts';
import type { EnqueueRequest, Store } from './store.ts';

export type CommitResult = string[] | PulseError;

/**
 * Group commit for envelopes. Sends that arrive while the event loop handles one
 * batch of socket reads are written together in ONE transaction (one fsync) at
 * the next `setImmediate`; each sender's callback runs only after that commit
 * returned, so `sent` is never written for an envelope that is not on disk.
 */
export class CommitQueue {
  readonly #store: Store;
  #pending: { request: EnqueueRequest; done: (result: CommitResult) => void }[] = [];
  #scheduled = false;

  constructor(store: Store) {
    this.#store = store;
  }

  submit(request: EnqueueRequest, done: (result: CommitResult) => void): void {
    this.#pending.push({ request, done });
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Commits everything pending now (also called on shutdown before the store closes). */
  flush(): void {
    this.#scheduled = false;
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    let results: CommitResult[];
    try {
      results = this.#store.enqueueBatch(batch.map((entry) => entry.request));
    } catch {
      // The transaction failed as a whole (disk full, I/O error): nothing is stored.
      const failure = new PulseError('INTERNAL', 'the envelopes could not be stored');
      results = batch.map(() => failure);
    }
    for (const [i, entry] of batch.entries()) {
      try {
        entry.done(results[i]!);
      } catch {
        // One sender's answer failing (its connection gone) must not starve the others.
      }
    }
  }
}
