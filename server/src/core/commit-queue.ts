import { PulseError } from './errors.ts';
import { DECISION_ATTEMPTS } from './policy/conflicts.ts';
import { QueueAdmission, type QueueCaps, type QueueReads, type SendRequest } from './policy/queue.ts';
import type { Scheduler } from './ports/scheduler.ts';
import { type EnvelopeWrite, type QueuedBytes, type Store, StoreConflict, StoreUnavailable } from './store.ts';

export type CommitResult = string[] | PulseError;

interface Pending {
  readonly request: SendRequest;
  readonly done: (result: CommitResult) => void;
}

/**
 * Group commit for envelopes. Sends that arrive while the event loop handles one
 * batch of socket reads, or while the previous batch is being written, are
 * decided together (QueueAdmission: addressing, the queue cap, the byte quotas and the disk mark) and the
 * admitted ones written in ONE store write (one transaction, one fsync or one
 * round of JetStream acks). One batch is written at a time, so commit order is
 * submission order. Each sender's callback runs only after that write returned,
 * so `sent` is never written for an envelope that is not stored. A refused send
 * is answered alone; the others of its batch are unaffected.
 */
export class CommitQueue {
  readonly #store: Store;
  readonly #scheduler: Scheduler;
  readonly #caps: QueueCaps;
  #pending: Pending[] = [];
  #scheduled = false;
  /** True while batches are being written (#drain's loop runs); `#drained` settles when it stops. */
  #draining = false;
  #drained: Promise<void> = Promise.resolve();

  constructor(store: Store, scheduler: Scheduler, caps: QueueCaps) {
    this.#store = store;
    this.#scheduler = scheduler;
    this.#caps = caps;
  }

  submit(request: SendRequest, done: (result: CommitResult) => void): void {
    this.#pending.push({ request, done });
    // While a batch is being written, the drain loop picks this one up next.
    if (!this.#scheduled && !this.#draining) {
      this.#scheduled = true;
      this.#scheduler.afterIo(() => {
        this.#scheduled = false;
        void this.#drain();
      });
    }
  }

  /** Commits everything pending now and waits for it (also called on shutdown before the store closes). */
  flush(): Promise<void> {
    return this.#drain();
  }

  #drain(): Promise<void> {
    if (!this.#draining) this.#drained = this.#drainLoop();
    return this.#drained;
  }

  async #drainLoop(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending;
        this.#pending = [];
        await this.#commitBatch(batch);
      }
    } finally {
      // Synchronously after the last emptiness check: a submit from now on schedules a new drain.
      this.#draining = false;
    }
  }

  async #commitBatch(batch: readonly Pending[]): Promise<void> {
    let results: CommitResult[];
    try {
      results = await this.#commit(batch.map((entry) => entry.request));
    } catch (error) {
      // The write failed as a whole (disk full, I/O error, store unreachable, conflicts that kept coming): nothing is stored.
      const failure =
        error instanceof StoreUnavailable
          ? new PulseError('UNAVAILABLE', 'the store cannot be reached: nothing was acknowledged, send again later')
          : new PulseError('INTERNAL', 'the envelopes could not be stored');
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
  async #commit(requests: readonly SendRequest[]): Promise<CommitResult[]> {
    for (let attempt = 1; ; attempt++) {
      const admission = new QueueAdmission(await this.#read(requests), this.#caps);
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
        ids = writes.length === 0 ? [] : await this.#store.appendEnvelopes(writes);
      } catch (error) {
        if (error instanceof StoreConflict && attempt < DECISION_ATTEMPTS) continue;
        throw error;
      }
      let next = 0;
      return decisions.map((decision) => (decision instanceof PulseError ? decision : ids[next++]!));
    }
  }

  /**
   * Reads, concurrently, everything admission may ask about this batch (each
   * recipient's device ids, each addressed device's queue length), so the
   * decision itself (policy/queue.ts) stays synchronous.
   */
  async #read(requests: readonly SendRequest[]): Promise<QueueReads> {
    const deviceIds = new Map<string, Promise<readonly number[]>>();
    const queueLengths = new Map<string, Promise<number>>();
    const queuedBytes = new Map<string, Promise<QueuedBytes>>();
    const bytesOf = (account: string) => {
      if (!queuedBytes.has(account)) queuedBytes.set(account, this.#store.queuedBytes(account));
    };
    for (const { from, to, envelopes } of requests) {
      if (!deviceIds.has(to)) {
        deviceIds.set(
          to,
          this.#store.listDevices(to).then((devices) => devices.map((device) => device.deviceId)),
        );
      }
      for (const { deviceId } of envelopes) {
        const key = queueKey(to, deviceId);
        if (!queueLengths.has(key)) queueLengths.set(key, this.#store.queueLength(to, deviceId));
      }
      bytesOf(from.account);
      bytesOf(to);
    }
    const [ids, lengths, bytes, usage] = await Promise.all([
      settle(deviceIds),
      settle(queueLengths),
      settle(queuedBytes),
      this.#store.usage(),
    ]);
    return {
      deviceIds: (account) => ids.get(account) ?? [],
      queueLength: (account, deviceId) => lengths.get(queueKey(account, deviceId)) ?? 0,
      queuedBytes: (account) => bytes.get(account) ?? { sent: 0, received: 0 },
      usage,
    };
  }
}

function queueKey(account: string, deviceId: number): string {
  return `${account}\u0000${deviceId}`;
}

async function settle<T>(promises: ReadonlyMap<string, Promise<T>>): Promise<Map<string, T>> {
  const values = await Promise.all(promises.values());
  return new Map([...promises.keys()].map((key, i) => [key, values[i]!]));
}
