import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { sleep } from './pacing.ts';

export interface SlowSenderFigures {
  opened: number;
  closedByServer: number;
  openAtEnd: number;
  bytesTrickled: number;
}

/** How a slow sender stalls: inside the HTTP upgrade, inside a WebSocket frame, or behind a frame header that lies. */
type Stall = 'http-headers' | 'partial-frame' | 'lying-frame-length';
const STALLS: readonly Stall[] = ['http-headers', 'partial-frame', 'lying-frame-length'];
/** One byte per socket this often: never enough to finish anything. */
const TRICKLE_MS = 500;

function upgradeRequest(port: number): string {
  return [
    'GET /pulse/ws HTTP/1.1',
    `Host: 127.0.0.1:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
    '',
    '',
  ].join('\r\n');
}

/** A masked binary WebSocket frame header (RFC 6455 §5.2) announcing `length` bytes, none of which follow. */
function frameHeader(length: bigint): Uint8Array {
  const header = new Uint8Array(2 + 8 + 4);
  header[0] = 0x82;
  header[1] = 0x80 | 127;
  new DataView(header.buffer).setBigUint64(2, length);
  header.set(randomBytes(4), 10);
  return header;
}

/**
 * Keeps `count` raw TCP connections to the WebSocket port that never finish
 * what they started, trickling one byte every 500 ms; a connection the server
 * closes is replaced. The server should time them out or refuse them, and hold
 * no more than a bounded buffer for each meanwhile.
 */
export async function slowWebSocketSenders(port: number, count: number, deadline: number): Promise<SlowSenderFigures> {
  const figures: SlowSenderFigures = { opened: 0, closedByServer: 0, openAtEnd: 0, bytesTrickled: 0 };
  const sockets = new Set<Socket>();
  const open = (stall: Stall) => {
    const socket = connect({ host: '127.0.0.1', port });
    figures.opened += 1;
    sockets.add(socket);
    let upgraded = false;
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      if (performance.now() < deadline) {
        figures.closedByServer += 1;
        open(stall);
      }
    });
    socket.on('data', (chunk: Buffer) => {
      if (upgraded || !chunk.toString('latin1').startsWith('HTTP/1.1 101')) return;
      upgraded = true;
      socket.write(frameHeader(stall === 'lying-frame-length' ? 2n ** 62n : 1_000_000n));
    });
    socket.on('connect', () => {
      const request = upgradeRequest(port);
      // http-headers: all but the final CRLF, then header bytes one at a time forever.
      socket.write(stall === 'http-headers' ? request.slice(0, -2) : request);
    });
  };
  for (let i = 0; i < count; i++) open(STALLS[i % STALLS.length] as Stall);
  while (performance.now() < deadline) {
    await sleep(Math.min(TRICKLE_MS, Math.max(0, deadline - performance.now())));
    for (const socket of sockets) {
      if (!socket.writable) continue;
      socket.write('X');
      figures.bytesTrickled += 1;
    }
  }
  figures.openAtEnd = sockets.size;
  for (const socket of sockets) socket.destroy();
  return figures;
}
