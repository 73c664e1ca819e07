import { prefixLength, StreamFrameDecoder } from '@pulse/proto';
import { connectWebTransport } from '@pulse/webtransport/node';
import type { Dial, RawLink } from './client.ts';

/**
 * Dials Pulse over WebTransport: one bidirectional stream right after `ready`,
 * frames length-prefixed. `sendRaw` prefixes arbitrary bytes (a garbage frame);
 * `sendUnframed` writes bytes as they are (garbage framing).
 */
export function webtransportDial(port: number, sha256: Uint8Array): Dial {
  return async () => {
    const transport = connectWebTransport(`https://127.0.0.1:${port}/pulse/wt`, {
      serverCertificateHashes: [{ algorithm: 'sha-256', value: sha256 as Uint8Array<ArrayBuffer> }],
    });
    await transport.ready;
    const stream = await transport.createBidirectionalStream();
    const writer = stream.writable.getWriter();
    const early: Uint8Array[] = [];
    let paused = false;
    let handler: ((bytes: Uint8Array) => void) | undefined;
    // Closed: the session ended, or the server ended our stream (it sends `close` first).
    let streamEnded: () => void = () => {};
    const closed = Promise.race([
      transport.closed.then(
        () => {},
        () => {},
      ),
      new Promise<void>((resolve) => {
        streamEnded = resolve;
      }),
    ]);
    const write = (bytes: Uint8Array) => {
      writer.write(bytes).catch(() => {});
    };
    const link: RawLink & { sendUnframed(bytes: Uint8Array): void } = {
      send: (bytes) => write(prefixLength(bytes)),
      sendRaw: (bytes) => write(prefixLength(bytes)),
      sendUnframed: (bytes) => write(bytes),
      get onFrame() {
        return handler ?? (() => {});
      },
      set onFrame(fn) {
        handler = fn;
        for (const bytes of early.splice(0)) fn(bytes);
      },
      closed,
      close: () => transport.close({ closeCode: 0, reason: 'bye' }),
      pauseReading: () => {
        paused = true;
      },
    };
    void (async () => {
      const decoder = new StreamFrameDecoder(16 * 1024 * 1024);
      const reader = stream.readable.getReader();
      try {
        for (;;) {
          // Paused: stop pulling, so QUIC flow control pushes back on the server.
          while (paused) await new Promise((r) => setTimeout(r, 20));
          const { done, value } = await reader.read();
          if (done) {
            // Like a browser client that got `close`: end the session.
            transport.close({ closeCode: 0, reason: 'closed by the server' });
            break;
          }
          for (const frame of decoder.push(value)) {
            if (handler === undefined) early.push(frame);
            else handler(frame);
          }
        }
      } catch {
        // The session ended.
      }
      streamEnded();
    })();
    return link;
  };
}
