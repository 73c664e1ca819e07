/**
 * What a receiver holds for an application that has not read it yet: stream
 * bytes read ahead of the reader, queued datagrams, the first bytes of streams
 * not taken yet. QUIC flow control bounds only what stays in QUIC; bytes moved
 * out of it free its window, so they need a bound of their own. Budgets nest
 * (a session's inside its connection's, a connection's inside the server's):
 * a charge must fit every budget above, and the counters add up the chain, so
 * the top one reads as server-wide metrics. Plain bookkeeping, no I/O.
 */

/**
 * What one queued chunk costs besides its bytes: a Uint8Array with its own
 * ArrayBuffer takes ~380 bytes of RSS in V8 for a 1-byte slice (measured on
 * Node 20). Charging it keeps a peer that sends one byte per packet from
 * queueing a million tiny chunks inside a "1 MiB" budget.
 */
export const QUEUED_CHUNK_OVERHEAD_BYTES = 384;

/** What a chunk of `byteLength` bytes costs while it is queued. */
export function queuedCost(byteLength: number): number {
  return byteLength + QUEUED_CHUNK_OVERHEAD_BYTES;
}

/** Counters that only grow (export them as metrics). */
export interface ReceiveCounters {
  /** Streams refused at once: the application does not take them (IncomingPolicy), or has too many waiting. */
  readonly streamsRefused: number;
  /** Streams stopped because their first bytes did not fit the budget. */
  readonly streamsOverBudget: number;
  /** Datagrams dropped: not accepted, or no room for them. */
  readonly datagramsDropped: number;
  /** Bytes read from QUIC and thrown away: refused streams' first bytes, dropped datagrams, queues discarded by a stop or reset. */
  readonly bytesDropped: number;
}

export interface ReceiveStats extends ReceiveCounters {
  /** What is held now, chunk overhead included. */
  readonly bufferedBytes: number;
  /** The most ever held at once. */
  readonly peakBufferedBytes: number;
}

type MutableCounters = { -readonly [K in keyof ReceiveCounters]: ReceiveCounters[K] };

export class ReceiveBudget {
  /** The most this budget may hold; Infinity for one that only adds up (a server's). */
  readonly limit: number;
  #parent: ReceiveBudget | undefined;
  #used = 0;
  #peak = 0;
  readonly #counters: MutableCounters = {
    streamsRefused: 0,
    streamsOverBudget: 0,
    datagramsDropped: 0,
    bytesDropped: 0,
  };
  /** Queues holding charged bytes: kept reachable, so what they hold stays counted until read or the budget ends. */
  readonly #holders = new Set<object>();

  constructor(limit: number, parent?: ReceiveBudget) {
    this.limit = limit;
    this.#parent = parent;
  }

  /** Puts this budget inside `parent` (a session meeting its connection); only while it holds nothing. */
  join(parent: ReceiveBudget): void {
    if (this.#used !== 0) throw new Error('a budget joins its parent before it holds anything');
    this.#parent = parent;
  }

  get used(): number {
    return this.#used;
  }

  /** What may still be charged, here and in every budget above. */
  get room(): number {
    let room = this.limit - this.#used;
    for (let budget = this.#parent; budget !== undefined; budget = budget.#parent) {
      room = Math.min(room, budget.limit - budget.#used);
    }
    return room;
  }

  fits(cost: number): boolean {
    return cost <= this.room;
  }

  /** Counts `cost` here and above (the caller checked `fits`, or must hold it anyway). */
  charge(cost: number): void {
    for (let budget: ReceiveBudget | undefined = this; budget !== undefined; budget = budget.#parent) {
      budget.#used += cost;
      if (budget.#used > budget.#peak) budget.#peak = budget.#used;
    }
  }

  release(cost: number): void {
    for (let budget: ReceiveBudget | undefined = this; budget !== undefined; budget = budget.#parent) {
      budget.#used -= cost;
    }
  }

  /** A queue now holds charged bytes / holds none any more. */
  hold(holder: object): void {
    this.#holders.add(holder);
  }

  unhold(holder: object): void {
    this.#holders.delete(holder);
  }

  /** A stream refused (with the bytes already read from it); `overBudget`: for lack of room, else by policy. */
  streamRefused(bytes: number, overBudget: boolean): void {
    this.#count(overBudget ? 'streamsOverBudget' : 'streamsRefused', 1, bytes);
  }

  datagramDropped(bytes: number): void {
    this.#count('datagramsDropped', 1, bytes);
  }

  /** Queued bytes thrown away (a stream stopped or reset before its reader read them). */
  discarded(bytes: number): void {
    if (bytes > 0) this.#count('bytesDropped', 0, bytes);
  }

  /**
   * The owner ended (a session closed, a connection gone): what it still holds
   * leaves the budgets above, which may hand it out again. Later releases stay here.
   */
  detach(): void {
    for (let budget = this.#parent; budget !== undefined; budget = budget.#parent) budget.#used -= this.#used;
    this.#parent = undefined;
    this.#holders.clear();
  }

  stats(): ReceiveStats {
    return { ...this.#counters, bufferedBytes: this.#used, peakBufferedBytes: this.#peak };
  }

  #count(counter: keyof MutableCounters, count: number, bytes: number): void {
    for (let budget: ReceiveBudget | undefined = this; budget !== undefined; budget = budget.#parent) {
      budget.#counters[counter] += count;
      budget.#counters.bytesDropped += bytes;
    }
  }
}
