import type { TransportEvents, WebTransportLike } from './types.ts';

/** A WebTransport session's datagrams as Pulse uses them: one unprefixed frame each (PROTOCOL.md "Framing"). */
export interface DatagramLane {
  /** Sends `frame` in one datagram: false when it does not fit one on this path (the caller uses the stream). */
  send(frame: Uint8Array): boolean;
}

/**
 * Starts reading the session's datagrams into `events.onDatagram` and returns
 * the way to send them; undefined when this runtime's WebTransport has none
 * (the transport then sends everything on its stream).
 */
export function openDatagrams(session: WebTransportLike, events: TransportEvents): DatagramLane | undefined {
  const datagrams = session.datagrams;
  if (datagrams === undefined) return undefined;
  let writer: WritableStreamDefaultWriter<Uint8Array>;
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  try {
    writer = datagrams.writable.getWriter();
    reader = datagrams.readable.getReader();
  } catch {
    return undefined; // an implementation that offers the attribute but not the streams
  }
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        events.onDatagram?.(value);
      }
    } catch {
      // The session ended; the stream reports it.
    }
  })();
  return {
    send(frame) {
      // W3C WebTransport drops a datagram above maxDatagramSize silently: check first.
      if (!(frame.byteLength <= datagrams.maxDatagramSize)) return false;
      writer.write(frame).catch(() => {}); // unreliable: a lost datagram is not the connection's failure
      return true;
    },
  };
}
