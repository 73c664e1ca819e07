import { PulseError } from '../errors.ts';
import type { Address, EnvelopeWrite } from '../store.ts';
import { checkAddressing } from './addressing.ts';

/** A `send` the group commit is asked to store. */
export interface SendRequest {
  readonly from: Address;
  readonly to: string;
  readonly envelopes: readonly { readonly deviceId: number; readonly payload: Uint8Array }[];
  readonly now: number;
  readonly expiresAt: number;
}

/** What admission reads: an account's device ids (ascending) and a device's queue length. */
export interface QueueReads {
  deviceIds(account: string): readonly number[];
  queueLength(account: string, deviceId: number): number;
}

/**
 * Admission of the sends of one group commit, in order: each must address
 * exactly the recipient's devices (checkAddressing), and no recipient device may
 * hold more than `queueCap` envelopes (QUEUE_FULL), counting what the sends
 * admitted before it in the same batch add. An admitted send becomes an
 * EnvelopeWrite whose precondition is what admission saw, so a concurrent writer
 * cannot push a queue past the cap unnoticed (the store refuses the write).
 */
export class QueueAdmission {
  readonly #reads: QueueReads;
  readonly #queueCap: number;
  readonly #deviceIds = new Map<string, readonly number[]>();
  /** Queue lengths as read, plus what this batch admitted. */
  readonly #queued = new Map<string, number>();

  constructor(reads: QueueReads, queueCap: number) {
    this.#reads = reads;
    this.#queueCap = queueCap;
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
    const queuedAtMost = envelopes.map((envelope) => {
      const queued = this.#queuedFor(to, envelope.deviceId);
      if (queued >= this.#queueCap) {
        throw new PulseError(
          'QUEUE_FULL',
          `device ${envelope.deviceId} of ${to} already holds ${this.#queueCap} envelopes`,
        );
      }
      return queued;
    });
    for (const [i, envelope] of envelopes.entries())
      this.#queued.set(queueKey(to, envelope.deviceId), queuedAtMost[i]! + 1);
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
