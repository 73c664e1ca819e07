import { prefixLength, StreamFrameDecoder } from '@pulse/proto';
import { PulseError } from '../errors.ts';
import { openDatagrams } from './datagrams.ts';
import type { FrameTransport, TransportEvents, WebTransportFactory, WebTransportLike } from './types.ts';

/**
 * Pulse over WebTransport (PROTOCOL.md "Framing"): after `ready` the client opens
 * ONE bidirectional stream; every frame on it is preceded by its length as a QUIC
 * varint. Ephemeral frames may go in the session's datagrams instead
 * (`sendUnreliable`, datagrams.ts). Fails after `timeoutMs` so the caller can
 * fall back to WebSocket.
 */
export async function openWebTransport(
  factory: WebTransportFactory,
  url: string,
  certificateHashes: readonly Uint8Array[],
  options: { timeoutMs: number; maxFrameBytes: number },
  events: TransportEvents,
): Promise<FrameTransport> {
  let session: WebTransportLike;
  try {
    session = factory(url, {
      serverCertificateHashes: certificateHashes.map((value) => ({ algorithm: 'sha-256', value })),
    });
  } catch (cause) {
    throw new PulseError('SERVER_UNREACHABLE', `cannot open WebTransport ${url}`, { cause });
  }
  // A rejected `closed` must never surface as an unhandled rejection.
  session.closed.catch(() => {});

  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new PulseError('TIMEOUT', `WebTransport ${url} not ready within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
  });
  let stream: Awaited<ReturnType<WebTransportLike['createBidirectionalStream']>>;
  try {
    stream = await Promise.race([session.ready.then(() => session.createBidirectionalStream()), timeout]);
  } catch (cause) {
    try {
      session.close();
    } catch {
      // Already failed; closing is best effort.
    }
    if (PulseError.is(cause)) throw cause;
    throw new PulseError('SERVER_UNREACHABLE', `WebTransport ${url} failed: ${String(cause)}`, { cause });
  } finally {
    clearTimeout(timer);
  }

  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  let closed = false;
  const finish = (reason: string) => {
    if (closed) return;
    closed = true;
    try {
      session.close();
    } catch {
      // The session may already be gone.
    }
    events.onClose(reason);
  };

  void (async () => {
    const decoder = new StreamFrameDecoder(options.maxFrameBytes);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const frame of decoder.push(value)) events.onFrame(frame);
      }
      decoder.end();
      finish('webtransport stream ended');
    } catch (error) {
      finish(`webtransport stream failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  })();
  session.closed.then(
    () => finish('webtransport session closed'),
    () => finish('webtransport session failed'),
  );
  const datagrams = openDatagrams(session, events);

  const send = (frame: Uint8Array) => {
    if (closed) return;
    writer.write(prefixLength(frame)).catch((error: unknown) => finish(`webtransport write failed: ${String(error)}`));
  };
  return {
    kind: 'webtransport',
    send,
    sendUnreliable(frame) {
      if (closed) return;
      // A frame too large for a datagram on this path goes on the stream (PROTOCOL.md "Ephemeral events").
      if (datagrams?.send(frame) !== true) send(frame);
    },
    close() {
      finish('client closed');
    },
  };
}
