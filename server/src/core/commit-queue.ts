import { PulseError } from './errors.ts';
import { DECISION_ATTEMPTS } from './policy/conflicts.ts';
import { QueueAdmission, type SendRequest } from './policy/queue.ts';
import type { Scheduler } from './ports/scheduler.ts';
import { type EnvelopeWrite, type Store, StoreConflict } from './store.ts';

export type CommitResult = string[] | PulseError;

interface Pending {
  readonly request: SendRequest;
  readonly done: (result: CommitResult) => void;
}

/**
 * Group commit for envelopes. Sends that arrive while the event loop handles one
 * batch of socket reads are decided together (QueueAdmission: addressing and the
 * queue cap) and the admitted ones written in ONE transaction (one fsync) once
 * those reads are done (Scheduler.afterIo); each sender's callback runs only after
 * that commit returned, so `sent` is never written for an envelope that is not on
 * disk. A refused send is answered alone; the others of its batch are unaffected.
 */
export class CommitQueue {
  readonly #store: Store;
  readonly #scheduler: Scheduler;
  readonly #queueCap: number;
  #pending: Pending[] = [];
  #scheduled = false;

  constructor(store: Store, scheduler: Scheduler, queueCap: number) {
    this.#store = store;
    this.#scheduler = scheduler;
    this.#queueCap = queueCap;
  }

  submit(request: SendRequest, done: (result: CommitResult) => void): void {
    this.#pending.push({ request, done });
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.#scheduler.afterIo(() => this.flush());
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
      results = this.#commit(batch.map((entry) => entry.request));
    } catch {
      // The transaction failed as a whole (disk full, I/O error, conflicts that kept coming): nothing is stored.
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

  /**
   * Decides every request, then writes the admitted ones. If another writer
   * changed a recipient meanwhile (StoreConflict: nothing was written), the whole
   * batch is decided again on fresh reads, so commit order stays request order.
   */
  #commit(requests: readonly SendRequest[]): CommitResult[] {
    for (let attempt = 1; ; attempt++) {
      const admission = new QueueAdmission(this.#reads, this.#queueCap);
      const decisions = requests.map((request) => {
        try {
          return admission.admit(request);
        } catch (error) {
          if (error instanceof PulseError) return error;
          throw error;
        }
      });
      const writes = decisions.filter((decision): decision is EnvelopeWrite => !(decision instanceof PulseError));
      let ids: string[][];
      try {
        ids = writes.length === 0 ? [] : this.#store.appendEnvelopes(writes);
      } catch (error) {
        if (error instanceof StoreConflict && attempt < DECISION_ATTEMPTS) continue;
        throw error;
      }
      let next = 0;
      return decisions.map((decision) => (decision instanceof PulseError ? decision : ids[next++]!));
    }
  }

  readonly #reads = {
    deviceIds: (account: string) => this.#store.listDevices(account).map((device) => device.deviceId),
    queueLength: (account: string, deviceId: number) => this.#store.queueLength(account, deviceId),
  };
}
