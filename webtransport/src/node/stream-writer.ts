/**
 * The write side of QUIC streams: hands bytes to quiche, queues what it cannot
 * take yet (flow control, congestion) and retries after each input, so a write
 * promise resolves only when quiche holds the bytes (backpressure).
 *
 * Small writes are gathered per stream until the next flush and handed over in
 * one streamSend: a napi call per 64-byte message costs more than the message.
 * Gathering is bounded (GATHER_LIMIT per stream), so writers still wait once
 * quiche stops taking bytes.
 */
import { http3CodeToWebTransport } from '../webtransport/error-codes.ts';
import { WebTransportError } from '../webtransport/types.ts';
import { type Connection, quicheStreamErrorCode } from './quiche-config.ts';

/** Writes up to this size may be gathered with others on the same stream... */
const GATHER_CHUNK_MAX = 4 * 1024;
/** ...up to this many bytes per stream before a flush. */
const GATHER_LIMIT = 32 * 1024;

interface PendingWrite {
  data: Uint8Array;
  fin: boolean;
  /** The bytes still belong to a writer whose promise already resolved: copy them before keeping them. */
  borrowed?: boolean;
  resolve(): void;
  reject(error: unknown): void;
}

export interface StreamWriterHooks {
  /** quiche refused a write: the peer sent STOP_SENDING, or the stream is gone. */
  onWriteError(streamId: number, error: WebTransportError): void;
  /** Every byte up to and including FIN is now quiche's. */
  onFinWritten(streamId: number): void;
  /** Bytes were queued or handed over: packets should be sent soon. */
  onWork(): void;
}

/** Gathered writes resolved when they were gathered: nobody waits on their handover. */
const ignore = (): void => {};
const RESOLVED: Promise<void> = Promise.resolve();

/** Makes a write that stays queued independent of the caller's buffer. */
function own(pending: PendingWrite): PendingWrite {
  if (pending.borrowed) {
    pending.data = pending.data.slice();
    pending.borrowed = false;
  }
  return pending;
}

export class StreamWriter {
  readonly #quic: Connection;
  readonly #hooks: StreamWriterHooks;
  readonly #pending = new Map<number, PendingWrite[]>();
  readonly #gathered = new Map<number, { chunks: Uint8Array[]; bytes: number }>();

  constructor(quic: Connection, hooks: StreamWriterHooks) {
    this.#quic = quic;
    this.#hooks = hooks;
  }

  /** Writes with gathering of small chunks. */
  write(streamId: number, data: Uint8Array, fin: boolean): Promise<void> {
    if (!fin && data.length > 0 && data.length <= GATHER_CHUNK_MAX && !this.#pending.has(streamId)) {
      const gathered = this.#gathered.get(streamId);
      const total = (gathered?.bytes ?? 0) + data.length;
      if (total <= GATHER_LIMIT) {
        if (gathered === undefined) {
          this.#gathered.set(streamId, { chunks: [data], bytes: total });
        } else {
          gathered.chunks.push(data);
          gathered.bytes = total;
        }
        this.#hooks.onWork();
        return RESOLVED;
      }
    }
    this.#release(streamId);
    return this.writeNow(streamId, data, fin);
  }

  /** Hands bytes to quiche now, behind anything already queued on the stream. */
  writeNow(streamId: number, data: Uint8Array, fin: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#enqueue(streamId, { data, fin, resolve, reject });
      this.#hooks.onWork();
    });
  }

  /** Hands every gathered chunk to quiche (call before building packets). */
  releaseGathered(): void {
    if (this.#gathered.size === 0) return;
    for (const streamId of [...this.#gathered.keys()]) this.#release(streamId);
  }

  /** Retries queued writes (call after input: ACKs and MAX_STREAM_DATA free room). */
  retry(): void {
    for (const [streamId, queue] of this.#pending) {
      while (queue.length > 0) {
        const head = queue[0] as PendingWrite;
        if (!this.#trySend(streamId, head)) break;
        queue.shift();
        if (head.fin) this.#hooks.onFinWritten(streamId);
      }
      if (queue.length === 0) this.#pending.delete(streamId);
    }
  }

  /**
   * Fails the queued writes of a stream (reset, session gone). Gathered bytes
   * were already resolved to the writer, so they still go out first.
   */
  reject(streamId: number, error: WebTransportError): void {
    const queue = this.#pending.get(streamId);
    if (queue === undefined) return;
    this.#pending.delete(streamId);
    for (const pending of queue) pending.reject(error);
  }

  #enqueue(streamId: number, pending: PendingWrite): void {
    const queue = this.#pending.get(streamId);
    if (queue !== undefined) {
      queue.push(own(pending));
    } else if (this.#trySend(streamId, pending)) {
      if (pending.fin) this.#hooks.onFinWritten(streamId);
    } else {
      this.#pending.set(streamId, [own(pending)]);
    }
  }

  #release(streamId: number): void {
    const gathered = this.#gathered.get(streamId);
    if (gathered === undefined) return;
    this.#gathered.delete(streamId);
    // A lone chunk goes as it is (the writer handed it over; WHATWG writers do not reuse chunks).
    let data = gathered.chunks[0] as Uint8Array;
    if (gathered.chunks.length > 1) {
      data = new Uint8Array(gathered.bytes);
      let offset = 0;
      for (const chunk of gathered.chunks) {
        data.set(chunk, offset);
        offset += chunk.length;
      }
    }
    // Already resolved to the writer: a failure surfaces through onWriteError instead.
    this.#enqueue(streamId, {
      data,
      fin: false,
      borrowed: gathered.chunks.length === 1,
      resolve: ignore,
      reject: ignore,
    });
  }

  /** Writes as much of `pending` as quiche takes; true when it is done (sent, or failed). */
  #trySend(streamId: number, pending: PendingWrite): boolean {
    let written: number | null;
    try {
      written = this.#quic.streamSend(streamId, pending.data, pending.fin);
    } catch (error) {
      const code = quicheStreamErrorCode(error, 'StreamStopped');
      const streamError = new WebTransportError(code === undefined ? 'stream write failed' : 'stream stopped by peer', {
        streamErrorCode: code === undefined ? null : (http3CodeToWebTransport(code) ?? 0),
      });
      this.#hooks.onWriteError(streamId, streamError);
      pending.reject(streamError);
      return true;
    }
    const sent = written ?? 0;
    if (sent >= pending.data.length) {
      pending.resolve();
      return true;
    }
    // Nothing taken: blocked (congestion, flow control), or the stream is gone. quiche forgets a
    // unidirectional stream as soon as the peer's STOP_SENDING arrives, and then takes nothing, ever:
    // without this check the write would wait forever. Only here, so writes that go through cost no call.
    if (written === null && this.#isForgotten(streamId)) {
      const streamError = new WebTransportError('stream stopped by peer', { streamErrorCode: null });
      this.#hooks.onWriteError(streamId, streamError);
      pending.reject(streamError);
      return true;
    }
    pending.data = pending.data.subarray(sent);
    return false;
  }

  /** quiche no longer knows the stream (stopped and collected; its STOP_SENDING code is lost with it). */
  #isForgotten(streamId: number): boolean {
    try {
      this.#quic.streamCapacity(streamId);
      return false;
    } catch (error) {
      return error instanceof Error && error.message.startsWith('InvalidStreamState');
    }
  }
}
