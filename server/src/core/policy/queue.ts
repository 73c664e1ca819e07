import { PulseError, type PulseErrorCode } from '../errors.ts';
import type { ServerLimits } from '../limits/limits.ts';
import type { Address, EnvelopeWrite, QueuedBytes, StorageUsage } from '../store.ts';
import { checkAddressing } from './addressing.ts';

/** A `send` the group commit is asked to store. */
export interface SendRequest {
  readonly from: Address;
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
 */
export class QueueAdmission {
  readonly #reads: QueueReads;
  readonly #caps: QueueCaps;
  readonly #deviceIds = new Map<string, readonly number[]>();
  /** Queue lengths as read, plus what this batch admitted. */
  readonly #queued = new Map<string, number>();
  /** Bytes this batch admitted, by sender and by recipient account, and in all. */
  readonly #sentBytes = new Map<string, number>();
  readonly #receivedBytes = new Map<string, number>();
  #batchBytes = 0;

  constructor(reads: QueueReads, caps: QueueCaps) {
    this.#reads = reads;
    this.#caps = caps;
  }

  /** The write for an acceptable send; throws the PulseError refusing it (and then reserves nothing). */
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
    const sent = this.#reads.queuedBytes(from.account).sent + (this.#sentBytes.get(from.account) ?? 0);
    if (sent + bytes > this.#caps.senderBytes) {
      throw new AdmissionRefusal(
        'sender_queued_bytes',
        'QUOTA_EXCEEDED',
        `${from.account} already has ${sent} bytes waiting for recipients (at most ${this.#caps.senderBytes})`,
      );
    }
    const received = this.#reads.queuedBytes(to).received + (this.#receivedBytes.get(to) ?? 0);
    if (received + bytes > this.#caps.accountBytes) {
      throw new AdmissionRefusal(
        'account_queued_bytes',
        'QUEUE_FULL',
        `${to} already has ${received} bytes waiting (at most ${this.#caps.accountBytes})`,
      );
    }
    const queuedAtMost = envelopes.map((envelope) => {
      const queued = this.#queuedFor(to, envelope.deviceId);
      if (queued >= this.#caps.perDevice) {
        throw new AdmissionRefusal(
          'queue_per_device',
          'QUEUE_FULL',
          `device ${envelope.deviceId} of ${to} already holds ${this.#caps.perDevice} envelopes`,
        );
      }
      return queued;
    });
    for (const [i, envelope] of envelopes.entries())
      this.#queued.set(queueKey(to, envelope.deviceId), queuedAtMost[i]! + 1);
    this.#sentBytes.set(from.account, (this.#sentBytes.get(from.account) ?? 0) + bytes);
    this.#receivedBytes.set(to, (this.#receivedBytes.get(to) ?? 0) + bytes);
    this.#batchBytes += bytes;
    return {
      from,
      to,
      envelopes,
      serverTime: request.now,
      expiresAt: request.expiresAt,
      deviceIds,
      queuedAtMost,
    };
  }

  #checkStorage(bytes: number): void {
    const { usedBytes, freeBytes } = this.#reads.usage;
    const added = this.#batchBytes + bytes;
    if (usedBytes + added > this.#caps.storageMaxBytes || freeBytes - added < this.#caps.storageMinFreeBytes) {
      throw new AdmissionRefusal(
        'storage_full',
        'STORAGE_FULL',
        'the server is low on storage: new envelopes are refused for now',
      );
    }
  }

  #queuedFor(account: string, deviceId: number): number {
    const key = queueKey(account, deviceId);
    let queued = this.#queued.get(key);
    if (queued === undefined) {
      queued = this.#reads.queueLength(account, deviceId);
      this.#queued.set(key, queued);
    }
    return queued;
  }
}

function queueKey(account: string, deviceId: number): string {
  return `${account}\u0000${deviceId}`;
}
