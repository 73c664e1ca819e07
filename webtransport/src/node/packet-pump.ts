/**
 * Packets in and out of one quiche connection: each UDP datagram from the peer
 * goes to quiche, then the connection reacts; what quiche has queued goes out in
 * one flush per I/O phase (setImmediate), after the application reacted, so ACKs
 * ride on replies and pipelined writes share packets. After every flush the
 * timer follows quiche's deadline; a connection without one is closed.
 *
 * Hot path: the flush is scheduled with a function bound once, and a packet
 * buffer quiche did not write into is kept for the next one.
 */
import { ConnectionClock } from './connection-clock.ts';
import { type Connection, type HostPort, MAX_SEND_UDP_PAYLOAD } from './quiche-config.ts';

export interface PacketPumpHooks {
  /** Input arrived (a packet, or quiche's timer: `fullScan`): read and react. */
  onInput(fullScan: boolean): void;
  /** Packets are about to be built: hand quiche the writes gathered since the last flush. */
  beforeSend(): void;
  /** quiche closed the connection (it has no deadline left); called once. */
  onClosed(): void;
}

export class PacketPump {
  readonly #quic: Connection;
  readonly #local: HostPort;
  readonly #sendPacket: (packet: Uint8Array, to: HostPort) => void;
  readonly #hooks: PacketPumpHooks;
  readonly #clock: ConnectionClock;
  #flushQueued = false;
  /** A packet buffer quiche did not write into, for the next send. */
  #spare: Buffer | undefined;
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

  /** Sends whatever quiche has queued and re-arms the timer. */
  flush(): void {
    this.#flushQueued = false;
    this.#hooks.beforeSend();
    for (;;) {
      // A fresh buffer per packet: dgram sends are asynchronous and keep a reference.
      const packet = this.#spare ?? Buffer.allocUnsafe(MAX_SEND_UDP_PAYLOAD);
      this.#spare = undefined;
      let result: ReturnType<Connection['send']>;
      try {
        result = this.#quic.send(packet);
      } catch {
        break;
      }
      if (result === null) {
        this.#spare = packet; // nothing was written into it: keep it for next time
        break;
      }
      const [length, info] = result;
      this.#sendPacket(packet.subarray(0, length), info.to);
    }
    this.#armTimer();
  }

  /** Flushes after the current I/O phase: writes made while handling this batch of packets share packets. */
  queueFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    setImmediate(this.#flushIfQueued);
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

  /** Bound once: no closure per scheduled flush. */
  readonly #flushIfQueued = (): void => {
    if (this.#flushQueued) this.flush();
  };

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
