/**
 * When the connections of this process send their packets: once per turn of
 * the event loop (setImmediate, after the application reacted to the input of
 * that turn, so ACKs ride on replies and small writes share packets), within a
 * budget of packets per turn, round-robin.
 *
 * Why a budget: a server fanning out to 1,000 peers had every connection flush
 * its whole congestion window in one go, ~16,000 packets and 300+ ms in which
 * the event loop read nothing, so the peers' ACKs waited in (or overflowed) the
 * socket's receive buffer, RTT samples grew, and QUIC probed and retransmitted
 * what had arrived (measured with webtransport/bench/fanout.ts). Within the
 * budget, the packets of one turn take a few milliseconds; connections that
 * still have packets go on in the next turn, after the loop has read its
 * sockets, and a connection that used its share of a turn goes to the back of
 * the line, so a bulk sender cannot hold the others back.
 */

/**
 * A connection with packets to send: sends at most `limit`, and says whether it
 * stopped at the limit. One that flushed on its own meanwhile just sends nothing.
 */
export interface PacketSource {
  sendPackets(limit: number): { readonly sent: number; readonly more: boolean };
}

/** Packets sent per turn of the event loop, all connections together: ~5 ms of work on this machine. */
export const PACKETS_PER_TURN = 256;
/** Packets one connection sends before the next one's turn: a whole gathered write (32 KiB) fits. */
export const PACKETS_PER_VISIT = 32;

export class SendScheduler {
  readonly #packetsPerTurn: number;
  readonly #packetsPerVisit: number;
  /** Sources waiting, in order; a source is in it at most once. */
  #due: PacketSource[] = [];
  readonly #queued = new Set<PacketSource>();
  #scheduled = false;

  constructor(packetsPerTurn = PACKETS_PER_TURN, packetsPerVisit = PACKETS_PER_VISIT) {
    this.#packetsPerTurn = packetsPerTurn;
    this.#packetsPerVisit = packetsPerVisit;
  }

  /** `source` has packets: it sends in this turn's send phase (or a later one, under load). */
  queue(source: PacketSource): void {
    if (this.#queued.has(source)) return;
    this.#queued.add(source);
    this.#due.push(source);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#run);
    }
  }

  /** Bound once: no closure per turn. */
  readonly #run = (): void => {
    this.#scheduled = false;
    const due = this.#due;
    this.#due = [];
    let budget = this.#packetsPerTurn;
    let index = 0;
    for (; index < due.length && budget > 0; index++) {
      const source = due[index] as PacketSource;
      this.#queued.delete(source);
      let outcome: { sent: number; more: boolean };
      try {
        outcome = source.sendPackets(Math.min(budget, this.#packetsPerVisit));
      } catch {
        continue; // one connection failing must not keep the others' packets
      }
      budget -= outcome.sent;
      if (outcome.more) this.queue(source); // to the back of the line, for the next turn
    }
    // Whoever did not get a turn goes first next time, ahead of those queued since (still in #queued,
    // so none of them was queued twice).
    if (index < due.length) {
      this.#due = due.slice(index).concat(this.#due);
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(this.#run);
      }
    }
  };
}

/** The scheduler of every connection in this process: one send phase per turn, one budget. */
export const sendScheduler = new SendScheduler();
