import { prefixLength, StreamFrameDecoder } from '@pulse/proto';
import type { TransportEvents } from '@pulse/sdk';
import type { WireTransport } from './wire-transport.ts';

/** The part of the W3C WebTransport interface the wire uses: a browser's and `@pulse/webtransport/node`'s both fit. */
export interface WebTransportLike {
  readonly ready: Promise<unknown>;
  readonly closed: Promise<unknown>;
  createBidirectionalStream(): Promise<{ readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> }>;
  close(info?: { closeCode?: number; reason?: string }): void;
  readonly datagrams?: { readonly writable: WritableStream<Uint8Array>; readonly readable: ReadableStream<Uint8Array> };
}

/** A WebTransport connection that can also break the stream framing. */
export interface WebTransportWire extends WireTransport {
  /** Writes bytes as they are, without a length prefix (garbage stream framing). */
  sendUnframed(bytes: Uint8Array): void;
  /** Sends bytes as one datagram (PROTOCOL.md "Framing": one unprefixed ephemeral frame). */
  sendDatagram(bytes: Uint8Array): void;
}

/** Far above any server limit: the server, not this reader, must refuse an oversized frame. */
const MAX_READ_FRAME_BYTES = 16 * 1024 * 1024;
/** How often a paused reader looks again whether it may read. */
const PAUSED_POLL_MS = 20;

/**
 * Pulse over a WebTransport session that is being opened (PROTOCOL.md
 * "Framing"): one bidirectional stream right after `ready`, every frame preceded
 * by its length as a QUIC varint. `onClose` comes once the stream has ended or
 * failed, so every frame the server sent before arrives first. A paused reader
 * stops pulling the stream, so QUIC flow control backs the server up.
 */
export async function webTransportWire(session: WebTransportLike, events: TransportEvents): Promise<WebTransportWire> {
  let sessionEnded = false;
  const ended = () => {
    sessionEnded = true;
  };
  session.closed.then(ended, ended);
  await session.ready;
  const stream = await session.createBidirectionalStream();
  const writer = stream.writable.getWriter();
  let paused = false;
  const write = (bytes: Uint8Array) => {
    writer.write(bytes).catch(() => {}); // the session is gone: the write is dropped
  };
  void (async () => {
    const decoder = new StreamFrameDecoder(MAX_READ_FRAME_BYTES);
    const reader = stream.readable.getReader();
    let reason = 'webtransport stream ended by the server';
    try {
      for (;;) {
        // Paused: pull nothing until the session ends (then the read fails at once).
        while (paused && !sessionEnded) await new Promise((resume) => setTimeout(resume, PAUSED_POLL_MS));
        const { done, value } = await reader.read();
        if (done) {
          // As a browser client that got `close`: end the session.
          session.close({ closeCode: 0, reason: 'closed by the server' });
          break;
        }
        for (const frame of decoder.push(value)) events.onFrame(frame);
      }
    } catch (error) {
      reason = `webtransport session ended: ${error instanceof Error ? error.message : String(error)}`;
    }
    events.onClose(reason);
  })();
  // Taken on first use: a test may write the session's datagrams itself.
  let datagramWriter: WritableStreamDefaultWriter<Uint8Array> | undefined;
  if (session.datagrams !== undefined) void readDatagrams(session.datagrams.readable, events);
  return {
    kind: 'webtransport',
    send: (bytes) => write(prefixLength(bytes)),
    sendUnframed: (bytes) => write(bytes),
    sendDatagram: (bytes) => {
      if (session.datagrams === undefined) throw new Error('this WebTransport session has no datagrams');
      datagramWriter ??= session.datagrams.writable.getWriter();
      datagramWriter.write(bytes).catch(() => {}); // unreliable: a datagram may be lost
    },
    close: () => session.close({ closeCode: 0, reason: 'bye' }),
    pauseReading: () => {
      paused = true;
    },
  };
}

/** Hands each datagram received to `events.onDatagram` until the session ends. */
async function readDatagrams(readable: ReadableStream<Uint8Array>, events: TransportEvents): Promise<void> {
  const reader = readable.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      events.onDatagram?.(value);
    }
  } catch {
    // The session ended.
  }
}
