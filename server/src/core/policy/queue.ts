import { PulseError, type PulseErrorCode } from '../errors.ts';
import type { ServerLimits } from '../limits/limits.ts';
import type { Address, EnvelopeWrite, QueuedBytes, StorageUsage } from '../store.ts';
import { checkAddressing } from './addressing.ts';

/** A `send` the group commit is asked to store. */
export interface SendRequest {
  /** The sending connection's device (addressing); for a sealed send it is not stored. */
  readonly from: Address;
  /** A sealed send (PROTOCOL.md "Sealed sender"): stored without a sender, so no sender quota applies. */
  readonly sealed?: boolean | undefined;
  readonly to: string;
  readonly envelopes: readonly { readonly deviceId: number; readonly payload: Uint8Array }[];
  readonly now: number;
  readonly expiresAt: number;
}

/** What admission reads: device ids (ascending), queue lengths, queued bytes, and how full the storage is. */
export interface QueueReads {
  deviceIds(account: string): readonly number[];
  queueLength(account: string, deviceId: number): number;
  queuedBytes(account: string): QueuedBytes;
  readonly usage: StorageUsage;
}

/** The caps admission applies (from ServerLimits). */
export interface QueueCaps {
  /** Envelopes per recipient device (`queue_per_device`). */
  readonly perDevice: number;
  /** Undelivered payload bytes one account has sent (`sender_queued_bytes`). */
  readonly senderBytes: number;
  /** Undelivered payload bytes waiting for one account (`account_queued_bytes`). */
  readonly accountBytes: number;
  /** The disk high-water mark: the store's size (`storage_max_bytes`)... */
  readonly storageMaxBytes: number;
  /** ...and the free space it keeps (`storage_min_free_bytes`). */
  readonly storageMinFreeBytes: number;
}

/** A send refused by a cap; `limit` names it (the `limit` label of the violation metric). */
export class AdmissionRefusal extends PulseError {
  readonly limit: string;
  constructor(limit: string, code: PulseErrorCode, message: string) {
    super(code, message);
    this.limit = limit;
  }
}

/** The caps of `limits`. */
export function queueCapsOf(limits: ServerLimits): QueueCaps {
  return {
    perDevice: limits.queuePerDevice,
    senderBytes: limits.senderQueuedBytes,
    accountBytes: limits.accountQueuedBytes,
    storageMaxBytes: limits.storageMaxBytes,
    storageMinFreeBytes: limits.storageMinFreeBytes,
  };
}

/**
 * What one batch written and not yet answered adds once it commits: envelopes
 * per recipient device, bytes per sender and per recipient account, bytes in
 * all. The group commit decides its next batch while earlier ones commit
 * (commit-queue.ts) and counts these on top of what it reads.
 */
export class Reservation {
  readonly queued = new Map<string, number>();
  readonly sentBytes = new Map<string, number>();
  readonly receivedBytes = new Map<string, number>();
  bytes = 0;

  add(request: SendRequest, bytes: number): void {
    for (const { deviceId } of request.envelopes) addTo(this.queued, queueKey(request.to, deviceId), 1);
    if (request.sealed !== true) addTo(this.sentBytes, request.from.account, bytes);
    addTo(this.receivedBytes, request.to, bytes);
    this.bytes += bytes;
  }
}

/** The batches in flight when a batch's reads began, which its admission counts. */
export interface InFlight {
  readonly batches: readonly Reservation[];
  /**
   * Whether the store commits appends in call order (Store.appendsInCallOrder).
   * If not, a send to a device that a batch in flight writes waits for it.
   */
  readonly ordered: boolean;
}

const NOTHING_IN_FLIGHT: InFlight = { batches: [], ordered: true };

/**
 * A send that cannot be decided while the batches in flight are unanswered: it
 * fits the reads but not with what they add (and the reads may or may not show
 * it already), or its device is being written by a store that does not order
 * appends. Neither admitted nor refused: the group commit decides it again once
 * they are answered.
 */
export class AdmissionDeferred extends Error {
  override readonly name = 'AdmissionDeferred';
}

/**
 * Admission of the sends of one group commit, in order. Each must address
 * exactly the recipient's devices (checkAddressing) and fit every cap, counting
 * what the sends admitted before it in the same batch add (issue 11, "The disk
 * can be filled"):
 *
 * - the storage below its high-water mark (else STORAGE_FULL): the mark is set
 *   well before the disk is full, so acks and purges, which write too, go on;
 * - the sender's undelivered bytes within `sender_queued_bytes` (QUOTA_EXCEEDED);
 * - the recipient account's undelivered bytes within `account_queued_bytes`,
 *   and no recipient device above `queue_per_device` envelopes (QUEUE_FULL).
 *
 * An admitted send becomes an EnvelopeWrite whose precondition is the queue
 * lengths admission saw, so a concurrent writer cannot push a queue past its
 * cap unnoticed (the store refuses the write). The byte quotas and the mark are
 * checked on the reads of this batch without such a precondition: another server
 * sharing the store may overshoot them by what it commits meanwhile.
 *
 * Batches still in flight (`inFlight`, issue 15): the reads may or may not show
 * what they add, so every cap counts it on top of the reads, and so does each
 * envelope's `queuedAtMost` (else the write would conflict). That may count an
 * addition twice; so a send that fails a cap only because of them is deferred
 * (AdmissionDeferred), not refused, and decided again on reads that show them.
 */
export class QueueAdmission {
  readonly #reads: QueueReads;
  readonly #caps: QueueCaps;
  readonly #inFlight: InFlight;
  readonly #deviceIds = new Map<string, readonly number[]>();
  /** Queue lengths as read (each device read once per batch). */
  readonly #queueLengths = new Map<string, number>();
  /** What this batch admitted so far. */
  readonly #admitted = new Reservation();

  constructor(reads: QueueReads, caps: QueueCaps, inFlight: InFlight = NOTHING_IN_FLIGHT) {
    this.#reads = reads;
    this.#caps = caps;
    this.#inFlight = inFlight;
  }

  /** What the sends admitted so far add once written (held while their batch is in flight). */
  get reservation(): Reservation {
    return this.#admitted;
  }

  /** The write for an acceptable send; throws the PulseError refusing it, or AdmissionDeferred (reserving nothing). */
  admit(request: SendRequest): EnvelopeWrite {
    const { from, to, envelopes } = request;
    let deviceIds = this.#deviceIds.get(to);
    if (deviceIds === undefined) {
      deviceIds = this.#reads.deviceIds(to);
      this.#deviceIds.set(to, deviceIds);
    }
    checkAddressing(from, to, deviceIds, envelopes);
    const bytes = envelopes.reduce((total, envelope) => total + envelope.payload.length, 0);
    this.#checkStorage(bytes);
    const sealed = request.sealed === true;
    // A sealed envelope is stored without a sender: it counts against the recipient's quota only.
    if (!sealed) {
      const sent = this.#reads.queuedBytes(from.account).sent + (this.#admitted.sentBytes.get(from.account) ?? 0);
      this.#check(
        sent + bytes,
        this.#inFlightSum((b) => b.sentBytes.get(from.account)),
        this.#caps.senderBytes,
        () => {
          return new AdmissionRefusal(
            'sender_queued_bytes',
            'QUOTA_EXCEEDED',
            `${from.account} already has ${sent} bytes waiting for recipients (at most ${this.#caps.senderBytes})`,
          );
        },
      );
    }
    const received = this.#reads.queuedBytes(to).received + (this.#admitted.receivedBytes.get(to) ?? 0);
    this.#check(
      received + bytes,
      this.#inFlightSum((b) => b.receivedBytes.get(to)),
      this.#caps.accountBytes,
      () => {
        return new AdmissionRefusal(
          'account_queued_bytes',
          'QUEUE_FULL',
          `${to} already has ${received} bytes waiting (at most ${this.#caps.accountBytes})`,
        );
      },
    );
    const queuedAtMost = envelopes.map(({ deviceId }) => {
      const key = queueKey(to, deviceId);
      const queued = this.#queueLength(to, deviceId, key) + (this.#admitted.queued.get(key) ?? 0);
      const inFlight = this.#inFlightSum((b) => b.queued.get(key));
      // A store that does not order appends might store this one before those in flight for the device.
      if (inFlight > 0 && !this.#inFlight.ordered)
        throw new AdmissionDeferred(`device ${deviceId} of ${to} is being written`);
      this.#check(queued + 1, inFlight, this.#caps.perDevice, () => {
        return new AdmissionRefusal(
          'queue_per_device',
          'QUEUE_FULL',
          `device ${deviceId} of ${to} already holds ${this.#caps.perDevice} envelopes`,
        );
      });
      return queued + inFlight;
    });
    this.#admitted.add(request, bytes);
    return {
      from: sealed ? undefined : from,
      to,
      envelopes,
      serverTime: request.now,
      expiresAt: request.expiresAt,
      deviceIds,
      queuedAtMost,
    };
  }

  /**
   * `total` (the reads, this batch and this send) must stay within `cap`:
   * beyond it the send is refused; within it, but beyond with what the batches
   * in flight add, it waits for them.
   */
  #check(total: number, inFlight: number, cap: number, refusal: () => AdmissionRefusal): void {
    if (total > cap) throw refusal();
    if (total + inFlight > cap) throw new AdmissionDeferred('only the batches in flight may leave no room for it');
  }

  #checkStorage(bytes: number): void {
    const { usedBytes, freeBytes } = this.#reads.usage;
    const added = this.#admitted.bytes + bytes;
    const fits = (more: number) =>
      usedBytes + added + more <= this.#caps.storageMaxBytes &&
      freeBytes - added - more >= this.#caps.storageMinFreeBytes;
    if (!fits(0)) {
      throw new AdmissionRefusal(
        'storage_full',
        'STORAGE_FULL',
        'the server is low on storage: new envelopes are refused for now',
      );
    }
    if (!fits(this.#inFlightSum((b) => b.bytes))) {
      throw new AdmissionDeferred('only the batches in flight may fill the storage');
    }
  }

  #queueLength(account: string, deviceId: number, key: string): number {
    let length = this.#queueLengths.get(key);
    if (length === undefined) {
      length = this.#reads.queueLength(account, deviceId);
      this.#queueLengths.set(key, length);
    }
    return length;
  }

  #inFlightSum(of: (batch: Reservation) => number | undefined): number {
    let sum = 0;
    for (const batch of this.#inFlight.batches) sum += of(batch) ?? 0;
    return sum;
  }
}

function addTo(counts: Map<string, number>, key: string, n: number): void {
  counts.set(key, (counts.get(key) ?? 0) + n);
}

function queueKey(account: string, deviceId: number): string {
  return `${account}\u0000${deviceId}`;
}
