import { randomBytes, randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { paced } from './pacing.ts';

/**
 * Attacks below WebTransport, on the server's UDP port: QUIC handshakes that are
 * started and never continued (RFC 9000 §7: a real client's first flight, from
 * quiche, whose answers are never read), and datagrams that are no QUIC at all.
 */

/**
 * The raw UDP attacks come from an address of their own (127.0.0.0/8 is all
 * loopback): a server limiting handshakes per source would otherwise also stop
 * the WebTransport attacks of the same run (from 127.0.0.1), which then would
 * not be tried at all.
 */
const RAW_UDP_SOURCE = '127.0.0.9';

async function udpSocket(): Promise<Socket> {
  const socket = createSocket('udp4');
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.bind(0, RAW_UDP_SOURCE, resolve));
  return socket;
}

function send(socket: Socket, bytes: Uint8Array, port: number): Promise<void> {
  return new Promise((resolve) => socket.send(bytes, port, '127.0.0.1', () => resolve()));
}

export interface HalfOpenFigures {
  handshakes: number;
  packets: number;
  bytes: number;
}

/** Sockets the half-open handshakes come from (each handshake has its own connection ids). */
const HALF_OPEN_SOURCES = 4;

/**
 * `perSecond` new QUIC handshakes to `port`, each the first flight (Initial with
 * a TLS ClientHello, as quiche builds it for h3) and nothing after: the server
 * must not keep each for its 30 s idle timeout nor let them fill its table.
 */
export async function halfOpenHandshakes(port: number, perSecond: number, deadline: number): Promise<HalfOpenFigures> {
  const { quiche } = await import('@matrixai/quic/native/index.js');
  const config = quiche.Config.withBoringSslCtx(true, true, null, null, null, null);
  config.setApplicationProtos(['h3']);
  config.setMaxIdleTimeout(30_000);
  config.setMaxRecvUdpPayloadSize(65527);
  config.setMaxSendUdpPayloadSize(1350);
  const sockets = await Promise.all(Array.from({ length: HALF_OPEN_SOURCES }, udpSocket));
  const figures: HalfOpenFigures = { handshakes: 0, packets: 0, bytes: 0 };
  const buffer = new Uint8Array(1500);
  await paced(perSecond, deadline, async (index) => {
    const socket = sockets[index % sockets.length] as Socket;
    const local = { host: RAW_UDP_SOURCE, port: socket.address().port };
    const connection = quiche.Connection.connect(
      null,
      new Uint8Array(randomBytes(20)),
      local,
      { host: '127.0.0.1', port },
      config,
    );
    figures.handshakes += 1;
    for (;;) {
      const sent = connection.send(buffer);
      if (sent === null) break;
      const [length] = sent;
      await send(socket, buffer.slice(0, length), port);
      figures.packets += 1;
      figures.bytes += length;
    }
  });
  for (const socket of sockets) socket.close();
  return figures;
}

export interface GarbageFigures {
  datagrams: number;
  bytes: number;
}

/**
 * `perSecond` datagrams that are not QUIC: random bytes of random sizes, long
 * headers with unknown versions (asking for Version Negotiation), too-short
 * Initials (under the 1,200-byte minimum, RFC 9000 §14.1), short headers for
 * connections that do not exist.
 */
export async function garbageUdp(port: number, perSecond: number, deadline: number): Promise<GarbageFigures> {
  const socket = await udpSocket();
  const figures: GarbageFigures = { datagrams: 0, bytes: 0 };
  await paced(perSecond, deadline, async () => {
    const kind = randomInt(4);
    let bytes: Uint8Array;
    if (kind === 0) bytes = new Uint8Array(randomBytes(randomInt(1, 1500)));
    else {
      bytes = new Uint8Array(randomBytes(kind === 2 ? randomInt(20, 1199) : randomInt(1200, 1500)));
      if (kind === 1) {
        bytes[0] = 0xc0 | randomInt(64); // long header, random version below
        bytes[5] = 20;
      } else if (kind === 2) {
        bytes.set([0xc0, 0, 0, 0, 1, 8], 0); // an Initial of version 1, too short
      } else {
        bytes[0] = 0x40 | randomInt(64); // short header, unknown connection id
      }
    }
    await send(socket, bytes, port);
    figures.datagrams += 1;
    figures.bytes += bytes.length;
  });
  socket.close();
  return figures;
}
