import { WebSocket } from 'ws';
import type { Dial, RawLink } from './client.ts';

/** Dials the server's WebSocket endpoint: one binary message per frame. */
export function websocketDial(port: number): Dial {
  return () =>
    new Promise<RawLink>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/pulse/ws`);
      ws.binaryType = 'nodebuffer';
      const closed = new Promise<void>((r) => ws.once('close', () => r()));
      // Frames that arrive with the upgrade response wait until a handler is set.
      const early: Uint8Array[] = [];
      let handler: ((bytes: Uint8Array) => void) | undefined;
      const link: RawLink = {
        send: (bytes) => ws.send(bytes, { binary: true }),
        sendRaw: (bytes) => ws.send(bytes, { binary: true }),
        get onFrame() {
          return handler ?? (() => {});
        },
        set onFrame(fn) {
          handler = fn;
          for (const bytes of early.splice(0)) fn(bytes);
        },
        closed,
        close: () => ws.close(),
        pauseReading: () => ws.pause(),
      };
      ws.on('message', (data: Buffer) => {
        const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
        if (handler === undefined) early.push(bytes);
        else handler(bytes);
      });
      ws.once('open', () => resolve(link));
      ws.once('error', reject);
    });
}
