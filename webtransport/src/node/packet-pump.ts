/**
 * Packets in and out of one quiche connection: each UDP datagram from the peer
 * goes to quiche, then the connection reacts; what quiche has queued goes out in
 * the send phase of the turn (send-scheduler.ts: once per turn of the event
 * loop, after the application reacted, so ACKs ride on replies and pipelined
 * writes share packets; within a budget of packets per turn shared by every
 * connection). After every flush the timer follows quiche's deadline; a
 * connection without one is closed.
 *
 * Hot path: packets are built in a slab shared by every connection
 * (packet-slab.ts), not a buffer each.
 */
import { ConnectionClock } from './connection-clock.ts';
import { type PacketSlab, sharedPacketSlab } from './packet-slab.ts';
import { type Connection, type HostPort, MAX_SEND_UDP_PAYLOAD } from './quiche-config.ts';
import { type PacketSource, sendScheduler } from './send-scheduler.ts';

const NOTHING_SENT = Object.freeze({ sent: 0, more: false });

export interface PacketPumpHooks {
  /** Input arrived (a packet, or quiche's timer: `fullScan`): read and react. */
  onInput(fullScan: boolean): void;
  /** Packets are about to be built: hand quiche the writes gathered since the last flush. */
  beforeSend(): void;
  /** quiche closed the connection (it has no deadline left); called once. */
  onClosed(): void;
}

export class PacketPump implements PacketSource {
  readonly #quic: Connection;
  readonly #local: HostPort;
  readonly #sendPacket: (packet: Uint8Array, to: HostPort) => void;
  readonly #hooks: PacketPumpHooks;
  readonly #clock: ConnectionClock;
  readonly #slab: PacketSlab = sharedPacketSlab(MAX_SEND_UDP_PAYLOAD);
  #flushQueued = false;
  #closedNotified = false;
  #disposed = false;

  constructor(
    quic: Connection,
    local: HostPort,
    sendPacket: (packet: Uint8Array, to: HostPort) => void,
    hooks: PacketPumpHooks,
  ) {
    this.#quic = quic;
    this.#local = local;
    this.#sendPacket = sendPacket;
    this.#hooks = hooks;
    // Timers follow loss and reordering: the moment to look at every stream.
    this.#clock = new ConnectionClock(quic, () => hooks.onInput(true));
  }

  /** Feeds one UDP datagram from the peer. */
  receive(packet: Uint8Array, from: HostPort): void {
    try {
      this.#quic.recv(packet, { from, to: this.#local });
    } catch {
      // quiche already recorded the error (and queued CONNECTION_CLOSE when it was fatal).
    }
    this.#hooks.onInput(false);
  }

  /** Sends whatever quiche has queued now, however much, and re-arms the timer. */
  flush(): void {
    this.#flushQueued = false;
    this.#send(Number.POSITIVE_INFINITY);
  }

  /**
   * Sends in this turn's send phase (send-scheduler.ts), after the application
   * reacted: writes made while handling this batch of packets share packets.
   */
  queueFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    sendScheduler.queue(this);
  }

  /** The scheduler's turn: at most `limit` packets; `more` when quiche may have others (sent in a later turn). */
  sendPackets(limit: number): { sent: number; more: boolean } {
    if (!this.#flushQueued) return NOTHING_SENT; // flushed on its own since it was queued
    this.#flushQueued = false;
    const outcome = this.#send(limit);
    // The scheduler queues it again for what is left (and a flush asked for meanwhile is queued already).
    if (outcome.more) this.#flushQueued = true;
    return outcome;
  }

  /**
   * A PING every `intervalMs` while `shouldPing()` (sessions may sit quiet for
   * long stretches): both ends' idle timers stay fed (RFC 9000 §10.1.2).
   */
  startKeepAlive(intervalMs: number, shouldPing: () => boolean): void {
    this.#clock.startKeepAlive(intervalMs, shouldPing, () => this.flush());
  }

  /** Stops the timers: the connection will not be driven any more (its socket is closing). */
  dispose(): void {
    this.#clock.stop();
    this.#disposed = true;
  }

  /** Hands quiche the gathered writes, sends up to `limit` packets and re-arms the timer. */
  #send(limit: number): { sent: number; more: boolean } {
    this.#hooks.beforeSend();
    const slab = this.#slab;
    let sent = 0;
    while (sent < limit) {
      const window = slab.window();
      let result: ReturnType<Connection['send']>;
      try {
        result = this.#quic.send(window);
      } catch {
        break;
      }
      if (result === null) break; // nothing written: the window is offered again next time
      const [length, info] = result;
      // dgram sends may complete later and keep the packet: the slab never writes over it.
      this.#sendPacket(slab.take(window, length), info.to);
      sent++;
    }
    this.#armTimer();
    return { sent, more: sent >= limit };
  }

  #armTimer(): void {
    // A closed connection has no deadline: isClosed() (a napi call) is asked only when arm() found none.
    if (!this.#disposed && this.#clock.arm()) return;
    if (this.#disposed || this.#quic.isClosed()) {
      this.#clock.stop();
      if (!this.#disposed && !this.#closedNotified) {
        this.#closedNotified = true;
        this.#hooks.onClosed();
      }
    }
  }
}
