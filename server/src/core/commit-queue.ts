import { PulseError } from './errors.ts';
import { DECISION_ATTEMPTS } from './policy/conflicts.ts';
import {
  AdmissionDeferred,
  QueueAdmission,
  type QueueCaps,
  type QueueReads,
  Reservation,
  type SendRequest,
} from './policy/queue.ts';
import type { Scheduler } from './ports/scheduler.ts';
import { type EnvelopeWrite, type QueuedBytes, type Store, StoreConflict, StoreUnavailable } from './store.ts';

export type CommitResult = string[] | PulseError;

/**
 * Batches written and not yet answered, at most. One more than one lets the
 * event loop decide the next batch while the last one commits (an fsync in
 * SQLite's writer thread, JetStream acks), instead of the two taking turns
 * (issue 15); a few more cover a commit slower than a turn. More would only
 * hold more decisions on reads that may not show the batches before them
 * (their sends wait at a cap, see QueueAdmission) and more payloads in copies
 * on their way to the store: what arrives meanwhile waits and joins one batch.
 */
export const BATCHES_IN_FLIGHT = 4;

interface Pending {
  /** Submission order: sends not yet decided are decided in it, whatever sent them back (a deferral, a conflict). */
  readonly seq: number;
  readonly request: SendRequest;
  readonly done: (result: CommitResult) => void;
  /** Writes of this send that a StoreConflict undid so far. */
  readonly conflicts: number;
}

/** One batch: decided, handed to the store, answered once the store returned and every batch before it is answered. */
interface Batch {
  readonly entries: readonly Pending[];
  /** Per entry: its write (admitted) or its refusal. */
  readonly decisions: readonly (EnvelopeWrite | PulseError)[];
  readonly reservation: Reservation;
  readonly written: Promise<string[][]>;
}

/**
 * Group commit for envelopes. Sends that arrive while the event loop handles
 * one batch of socket reads are decided together (QueueAdmission: addressing,
 * the queue cap, the byte quotas and the disk mark) and the admitted ones
 * written in ONE store write (one transaction, one fsync or one round of
 * JetStream acks). Each sender's callback runs only after that write returned,
 * so `sent` is never written for an envelope that is not stored. A refused
 * send is answered alone; the others of its batch are unaffected.
 *
 * Pipelined (issue 15): up to BATCHES_IN_FLIGHT batches are at the store at
 * once, the next decided while the last commits. What keeps the rules:
 * - order: batches are decided one at a time and handed to the store in that
 *   order, which commits them in that order (Store.appendsInCallOrder; for a
 *   store that does not promise it, a device's next batch waits for its last);
 *   batches are answered strictly in that order, so the hand-offs to delivery
 *   (hub.ts `committed`) arrive in commit order;
 * - caps: each decision counts what the batches in flight add
 *   (QueueAdmission's `inFlight`), and a send that only they leave no room for
 *   waits until they are answered, with everything submitted after it;
 * - failures: a batch that fails (StoreUnavailable, disk full) fails its own
 *   sends; a later one is answered by its own outcome;
 * - conflicts (StoreConflict: a recipient's devices changed, or in cluster mode
 *   another node filled a queue): nothing of that batch was written; its sends
 *   are decided again on fresh reads, in submission order with those not
 *   decided yet, and written after the batches already in flight. Delivery
 *   stays in commit order; but where a store orders appends (SQLite), a send of
 *   that batch is then stored after the same sender's sends in those later
 *   batches, to the same device too: the one place where a sender's order can
 *   change (a recipient's device list changing while sends are in flight; the
 *   store fails the whole batch, not only the writes to that recipient).
 */
export class CommitQueue {
  readonly #store: Store;
  readonly #scheduler: Scheduler;
  readonly #caps: QueueCaps;
  /** Submitted and not yet decided, in submission order. */
  #pending: Pending[] = [];
  #submitted = 0;
  /** Handed to the store and not yet answered, oldest first. */
  readonly #inFlight: Batch[] = [];
  #scheduled = false;
  /** The decision under way (one at a time, so batches reach the store in order). */
  #deciding: Promise<void> | undefined;
  /** Batches answered so far (a decision that deferred a send goes on once one more is). */
  #answeredCount = 0;
  /** A send waits for a batch in flight to be answered (AdmissionDeferred). */
  #blocked = false;
  /** The answers, one batch after another. */
  #answers: Promise<void> = Promise.resolve();

  constructor(store: Store, scheduler: Scheduler, caps: QueueCaps) {
    this.#store = store;
    this.#scheduler = scheduler;
    this.#caps = caps;
  }

  submit(request: SendRequest, done: (result: CommitResult) => void): void {
    this.#pending.push({ seq: this.#submitted++, request, done, conflicts: 0 });
    // After the turn's socket reads: the sends they carried form one batch.
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.#scheduler.afterIo(() => {
        this.#scheduled = false;
        this.#next();
      });
    }
  }

  /** Decides and writes everything submitted, and waits for every answer (on shutdown, before the store closes). */
  async flush(): Promise<void> {
    for (;;) {
      this.#next();
      if (this.#deciding !== undefined) await this.#deciding;
      else if (this.#inFlight.length > 0) await this.#answers;
      else if (this.#pending.length === 0) return;
    }
  }

  /** Starts deciding the next batch if there is one and room for it. */
  #next(): void {
    if (this.#deciding !== undefined || this.#pending.length === 0) return;
    // A send waits for an answer (AdmissionDeferred): while nothing is in flight it no longer does.
    if (this.#blocked && this.#inFlight.length > 0) return;
    this.#blocked = false;
    if (this.#inFlight.length >= BATCHES_IN_FLIGHT) return;
    const answeredBefore = this.#answeredCount;
    const decided = () => {
      this.#deciding = undefined;
      // Deferred, and a batch was answered while deciding: decide again now (else the next answer calls #next).
      if (this.#answeredCount !== answeredBefore) this.#blocked = false;
      this.#next();
    };
    this.#deciding = this.#decide().then(decided, decided);
  }

  /**
   * Decides what is pending, in order, and hands the admitted sends to the
   * store. Sends from the first deferred one on stay pending.
   */
  async #decide(): Promise<void> {
    const entries = this.#pending;
    this.#pending = [];
    // Batches answered after this point are in the reads; these may or may not be.
    const inFlight = { batches: this.#inFlight.map((batch) => batch.reservation), ordered: this.#ordered };
    let admission: QueueAdmission;
    try {
      admission = new QueueAdmission(await this.#read(entries.map((entry) => entry.request)), this.#caps, inFlight);
    } catch (error) {
      this.#enqueue(
        entries,
        entries.map(() => failureOf(error)),
        undefined,
        Promise.resolve([]),
      );
      return;
    }
    const decisions: (EnvelopeWrite | PulseError)[] = [];
    for (const entry of entries) {
      try {
        decisions.push(admission.admit(entry.request));
      } catch (error) {
        if (error instanceof AdmissionDeferred) break;
        decisions.push(error instanceof PulseError ? error : failureOf(error));
      }
    }
    if (decisions.length < entries.length) {
      this.#blocked = true;
      this.#putBack(entries.slice(decisions.length));
      if (decisions.length === 0) return;
    }
    const writes = decisions.filter((decision): decision is EnvelopeWrite => !(decision instanceof PulseError));
    // Called now, in decision order: the store commits in call order.
    let written: Promise<string[][]>;
    try {
      written = writes.length === 0 ? Promise.resolve([]) : this.#store.appendEnvelopes(writes);
    } catch (error) {
      written = Promise.reject(error);
    }
    this.#enqueue(entries.slice(0, decisions.length), decisions, admission.reservation, written);
  }

  /** Returns sends to the undecided ones, in submission order. */
  #putBack(entries: readonly Pending[]): void {
    const merged: Pending[] = [];
    let i = 0;
    for (const entry of this.#pending) {
      while (i < entries.length && entries[i]!.seq < entry.seq) merged.push(entries[i++]!);
      merged.push(entry);
    }
    merged.push(...entries.slice(i));
    this.#pending = merged;
  }

  get #ordered(): boolean {
    return this.#store.appendsInCallOrder === true;
  }

  /** Puts a decided batch in flight; it is answered after every batch before it. */
  #enqueue(
    entries: readonly Pending[],
    decisions: readonly (EnvelopeWrite | PulseError)[],
    reservation: Reservation | undefined,
    written: Promise<string[][]>,
  ): void {
    // Handled when its turn to be answered comes.
    written.catch(() => {});
    const batch: Batch = { entries, decisions, reservation: reservation ?? new Reservation(), written };
    this.#inFlight.push(batch);
    this.#answers = this.#answers.then(() => this.#answer(batch));
  }

  async #answer(batch: Batch): Promise<void> {
    let results: readonly CommitResult[];
    let conflict = false;
    try {
      const ids = await batch.written;
      let next = 0;
      results = batch.decisions.map((decision) => (decision instanceof PulseError ? decision : ids[next++]!));
    } catch (error) {
      conflict = error instanceof StoreConflict;
      // Written as a whole or not at all: nothing of it is stored.
      const failure = failureOf(error);
      results = batch.decisions.map((decision) => (decision instanceof PulseError ? decision : failure));
    }
    this.#inFlight.shift();
    this.#answeredCount++;
    this.#blocked = false;
    if (conflict) {
      // Decided on reads another writer changed since: decided again, in submission order among those not decided yet.
      const again: Pending[] = [];
      for (const entry of batch.entries) {
        if (entry.conflicts + 1 < DECISION_ATTEMPTS) again.push({ ...entry, conflicts: entry.conflicts + 1 });
        else answer(entry, failureOf(new Error('the recipient kept changing')));
      }
      this.#putBack(again);
    } else {
      for (const [i, entry] of batch.entries.entries()) answer(entry, results[i]!);
    }
    this.#next();
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

/** Gives a sender its answer; one sender's answer failing (its connection gone) must not starve the others. */
function answer(entry: Pending, result: CommitResult): void {
  try {
    entry.done(result);
  } catch {
    // Nothing to do: the sender is gone.
  }
}

/** The answer for a send whose write failed (disk full, I/O error, store unreachable): nothing of it is stored. */
function failureOf(error: unknown): PulseError {
  return error instanceof StoreUnavailable
    ? new PulseError('UNAVAILABLE', 'the store cannot be reached: nothing was acknowledged, send again later')
    : new PulseError('INTERNAL', 'the envelopes could not be stored');
}

function queueKey(account: string, deviceId: number): string {
  return `${account}\u0000${deviceId}`;
}

async function settle<T>(promises: ReadonlyMap<string, Promise<T>>): Promise<Map<string, T>> {
  const values = await Promise.all(promises.values());
  return new Map([...promises.keys()].map((key, i) => [key, values[i]!]));
}
