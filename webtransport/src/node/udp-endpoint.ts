/** A UDP socket (IPv4 or IPv6) that hands datagrams to a callback and sends packets out. */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';
import type { HostPort } from './quiche-config.ts';

/**
 * node:dgram resolves the address of every unconnected send through dns.lookup, which answers an IP
 * literal on the next tick: the packet would leave after the flush instead of during it. The server
 * only ever sends to the literal addresses packets came from, so those are answered at once.
 */
function lookupLiteralAtOnce(
  address: string,
  options: LookupOneOptions | number,
  callback: (error: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  // isIP runs a regular expression: the address of the previous packet is the usual answer.
  const family = address === lastLiteral ? lastLiteralFamily : isIP(address);
  if (family !== 0) {
    lastLiteral = address;
    lastLiteralFamily = family;
    callback(null, address, family);
  } else {
    dnsLookup(address, typeof options === 'number' ? { family: options } : options, callback);
  }
}

/** The last IP literal looked up, and its family. */
let lastLiteral = '';
let lastLiteralFamily = 0;

/**
 * Kernel buffer sizes asked for the socket. Linux's default receive buffer
 * (~208 KiB) overflows while the process is busy for a few milliseconds with
 * many QUIC peers sending acks at once: every packet dropped there is a loss
 * that QUIC's recovery pays for with a retransmission and a smaller congestion
 * window (RFC 9002 §7). quic-go asks for 7 MiB for the same reason. The kernel
 * caps the request at net.core.rmem_max / wmem_max (4 MiB on Debian).
 */
export interface SocketBuffers {
  readonly receiveBytes: number;
  readonly sendBytes: number;
}

export const DEFAULT_SOCKET_BUFFERS: SocketBuffers = { receiveBytes: 4 * 1024 * 1024, sendBytes: 4 * 1024 * 1024 };

export class UdpEndpoint {
  readonly #socket: Socket;
  readonly local: HostPort;
  #closed = false;
  #connected = false;
  /** What the kernel granted (Linux reports twice the size asked for, capped by rmem_max / wmem_max). */
  buffers: SocketBuffers = DEFAULT_SOCKET_BUFFERS;

  private constructor(socket: Socket, local: HostPort) {
    this.#socket = socket;
    this.local = local;
  }

  /**
   * Binds a socket. A client passes `peer`: the socket is then connected, which
   * spares Node an address lookup per packet sent.
   */
  static async bind(
    host: string,
    port: number,
    onPacket: (data: Buffer, from: HostPort) => void,
    peer?: HostPort,
    buffers: SocketBuffers = DEFAULT_SOCKET_BUFFERS,
  ): Promise<UdpEndpoint> {
    const socket = createSocket({
      type: host.includes(':') ? 'udp6' : 'udp4',
      ipv6Only: host.includes(':'),
      lookup: lookupLiteralAtOnce,
      recvBufferSize: buffers.receiveBytes,
      sendBufferSize: buffers.sendBytes,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    if (peer !== undefined) {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.connect(peer.port, peer.host, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    }
    const address = socket.address();
    const endpoint = new UdpEndpoint(socket, { host: address.address, port: address.port });
    endpoint.buffers = { receiveBytes: socket.getRecvBufferSize(), sendBytes: socket.getSendBufferSize() };
    endpoint.#connected = peer !== undefined;
    socket.on('message', (data: Buffer, info: RemoteInfo) => onPacket(data, { host: info.address, port: info.port }));
    // A send error (e.g. ICMP unreachable surfacing on Linux) must not crash the process.
    socket.on('error', () => {});
    return endpoint;
  }

  send(packet: Uint8Array, to: HostPort): void {
    if (this.#closed) return;
    if (this.#connected) this.#socket.send(packet);
    else this.#socket.send(packet, to.port, to.host);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }
}
