import { WebSocket } from 'ws';
import { hostileFrame } from './hostile-frames.ts';
import { paced } from './pacing.ts';

export interface SprayFigures {
  connections: number;
  frames: number;
  closedByServer: number;
  openFailures: number;
}

/** Hostile frames per connection before it is replaced by a fresh one. */
const FRAMES_PER_CONNECTION = 25;

/**
 * Random, mutated and lying frames over WebSocket, `perSecond` frames in all,
 * over `parallel` connections that each first send a valid `hello` half of the
 * time (so the frames reach both the greeting and the greeted dispatcher).
 */
export async function sprayWebSocket(
  url: string,
  perSecond: number,
  parallel: number,
  deadline: number,
): Promise<SprayFigures> {
  const figures: SprayFigures = { connections: 0, frames: 0, closedByServer: 0, openFailures: 0 };
  const slots: { socket: WebSocket; sent: number; open: boolean }[] = [];
  const fresh = () => {
    const socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 });
    const slot = { socket, sent: 0, open: false };
    figures.connections += 1;
    socket.on('open', () => {
      slot.open = true;
      if (Math.random() < 0.5) socket.send(Uint8Array.of(0x83, ...helloBytes));
    });
    socket.on('error', () => {
      if (!slot.open) figures.openFailures += 1;
    });
    socket.on('close', () => {
      if (slot.open && slot.sent < FRAMES_PER_CONNECTION) figures.closedByServer += 1;
      slot.open = false;
    });
    socket.on('message', () => {});
    return slot;
  };
  for (let i = 0; i < parallel; i++) slots.push(fresh());
  await paced(perSecond, deadline, (index) => {
    const at = index % parallel;
    let slot = slots[at]!;
    if (slot.socket.readyState === WebSocket.CLOSED || slot.sent >= FRAMES_PER_CONNECTION) {
      slot.socket.terminate();
      slot = fresh();
      slots[at] = slot;
    }
    if (!slot.open) return;
    slot.socket.send(hostileFrame());
    slot.sent += 1;
    figures.frames += 1;
  });
  for (const slot of slots) slot.socket.terminate();
  return figures;
}

/** The rest of `{type: 'hello', versions: [1], client: 'x'}` after the map header (0x83): built once. */
const helloBytes = [
  ...[0xa4, ...Buffer.from('type')],
  ...[0xa5, ...Buffer.from('hello')],
  ...[0xa8, ...Buffer.from('versions')],
  ...[0x91, 0x01],
  ...[0xa6, ...Buffer.from('client')],
  ...[0xa1, 0x78],
];
