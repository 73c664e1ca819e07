import type { Connection } from '../../core/connection.ts';

/**
 * A Connection that hands everything to the transport's own: the edge's gates
 * (unauthenticated-gate.ts, flood-penalty-gate.ts) extend it and override only
 * what they watch.
 */
export class ForwardingConnection implements Connection {
  protected readonly inner: Connection;
  /** The inner connection's datagrams, if it has them. */
  readonly sendDatagram?: (frame: Uint8Array) => boolean;

  constructor(inner: Connection) {
    this.inner = inner;
    if (inner.sendDatagram !== undefined) this.sendDatagram = (frame) => inner.sendDatagram?.(frame) ?? false;
  }

  get transport(): Connection['transport'] {
    return this.inner.transport;
  }

  get remoteAddress(): string {
    return this.inner.remoteAddress;
  }

  get bufferedAmount(): number {
    return this.inner.bufferedAmount;
  }

  send(frame: Uint8Array): void {
    this.inner.send(frame);
  }

  close(code: string, reason: string): void {
    this.inner.close(code, reason);
  }
}
