/**
 * A bare QUIC client on the quiche binding, with no HTTP/3 layer: hostile-input
 * tests use it to put exactly the bytes they want on the wire.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { type Connection, createQuicheConfig, quiche } from '../../src/node/quiche-config.ts';
import { webTransportLimits } from '../../src/webtransport/limits.ts';

export class RawQuicClient {
  readonly quic: Connection;
  readonly #socket: Socket;
  readonly #port: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #waiters: (() => void)[] = [];
  #pending: { streamId: number; bytes: Uint8Array; fin: boolean }[] = [];

  private constructor(socket: Socket, port: number, localPort: number) {
    this.#socket = socket;
    this.#port = port;
    const config = createQuicheConfig('client', webTransportLimits());
    this.quic = quiche.Connection.connect(
      null,
      new Uint8Array(randomBytes(20)),
      { host: '127.0.0.1', port: localPort },
      { host: '127.0.0.1', port },
      config,
    );
    socket.on('message', (data) => {
      try {
        this.quic.recv(data, { from: { host: '127.0.0.1', port }, to: { host: '127.0.0.1', port: localPort } });
      } catch {
        // recorded by quiche
      }
      this.flush();
    });
  }

  /** Connects; with `handshake: false` only the first flight is sent (a truncated handshake). */
  static async connect(port: number, handshake = true): Promise<RawQuicClient> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const client = new RawQuicClient(socket, port, socket.address().port);
    if (!handshake) {
      const out = Buffer.alloc(1350);
      const result = client.quic.send(out);
      if (result) socket.send(out.subarray(0, result[0]), port, '127.0.0.1');
      client.close();
      return client;
    }
    client.flush();
    await client.until(() => client.quic.isEstablished());
    return client;
  }

  flush(): void {
    this.#writePending();
    for (;;) {
      const out = Buffer.alloc(1350);
      let result: ReturnType<Connection['send']>;
      try {
        result = this.quic.send(out);
      } catch {
        break;
      }
      if (result === null) break;
      this.#socket.send(out.subarray(0, result[0]), this.#port, '127.0.0.1');
    }
    if (this.#timer) clearTimeout(this.#timer);
    const timeout = this.quic.timeout();
    if (timeout !== null && !this.quic.isClosed()) {
      this.#timer = setTimeout(() => {
        this.quic.onTimeout();
        this.flush();
      }, timeout);
    }
    for (const waiter of this.#waiters.splice(0)) waiter();
  }

  /** Queues bytes on a stream; what quiche cannot take yet (congestion, flow control) is retried on each packet. */
  send(streamId: number, bytes: Uint8Array, fin = false): void {
    this.#pending.push({ streamId, bytes, fin });
    this.flush();
  }

  #writePending(): void {
    while (this.#pending.length > 0) {
      const head = this.#pending[0] as { streamId: number; bytes: Uint8Array; fin: boolean };
      let written = 0;
      try {
        written = this.quic.streamSend(head.streamId, head.bytes, head.fin) ?? 0;
      } catch {
        this.#pending.shift();
        continue;
      }
      if (written < head.bytes.length) {
        head.bytes = head.bytes.subarray(written);
        return;
      }
      this.#pending.shift();
    }
  }

  /** Resolves once `condition` holds (checked after every packet). */
  async until(condition: () => boolean): Promise<void> {
    while (!condition()) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** The error code the server closed the connection with. */
  async peerCloseCode(): Promise<number> {
    await this.until(() => this.quic.peerError() !== null);
    return (this.quic.peerError() as { errorCode: number }).errorCode;
  }

  /** The code of a RESET_STREAM the server sent on `streamId`. */
  async streamResetCode(streamId: number): Promise<number> {
    const buffer = new Uint8Array(1024);
    let code: number | undefined;
    await this.until(() => {
      try {
        this.quic.streamRecv(streamId, buffer);
      } catch (error) {
        const match = /StreamReset\((\d+)\)/.exec((error as Error).message);
        if (match) code = Number(match[1]);
      }
      return code !== undefined;
    });
    return code as number;
  }

  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#socket.close();
  }
}
