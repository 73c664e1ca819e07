import { ProtoError } from './errors.ts';
import { readVarint, varintLength, writeVarint } from './varint.ts';

/**
 * Framing for byte streams (WebTransport streams): each frame is preceded by its
 * length as a QUIC varint (RFC 9000 §16). WebSocket needs none of this: one
 * WebSocket message carries one frame.
 */
export function prefixLength(frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(varintLength(frame.length) + frame.length);
  out.set(frame, writeVarint(out, 0, frame.length));
  return out;
}

/**
 * Incremental decoder: accepts any split or concatenation of the stream's bytes
 * and returns each complete frame body (a fresh copy). A length above
 * `maxFrameBytes` is refused as soon as its prefix is read, before any of the
 * announced bytes are buffered.
 */
export class StreamFrameDecoder {
  readonly #maxFrameBytes: number;
  #buffer = new Uint8Array(0);
  #start = 0;
  #end = 0;

  constructor(maxFrameBytes: number) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** Bytes received but not yet returned as frames. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    this.#append(chunk);
    const frames: Uint8Array[] = [];
    for (;;) {
      const view = this.#buffer.subarray(this.#start, this.#end);
      let prefix: ReturnType<typeof readVarint>;
      try {
        prefix = readVarint(view, 0);
      } catch {
        throw new ProtoError('PROTO_FRAME_TOO_LARGE', 'frame length prefix exceeds 2^53 - 1');
      }
      if (prefix === undefined) break;
      if (prefix.value > this.#maxFrameBytes) {
        throw new ProtoError('PROTO_FRAME_TOO_LARGE', `frame of ${prefix.value} bytes exceeds ${this.#maxFrameBytes}`);
      }
      if (view.length < prefix.next + prefix.value) break;
      frames.push(view.slice(prefix.next, prefix.next + prefix.value));
      this.#start += prefix.next + prefix.value;
    }
    if (this.#start === this.#end) this.#start = this.#end = 0;
    return frames;
  }

  /** Call when the stream ends: throws PROTO_TRUNCATED if a frame was cut off. */
  end(): void {
    if (this.buffered > 0)
      throw new ProtoError('PROTO_TRUNCATED', `stream ended inside a frame (${this.buffered} bytes left)`);
  }

  #append(chunk: Uint8Array): void {
    const needed = this.#end - this.#start + chunk.length;
    if (this.#end + chunk.length > this.#buffer.length) {
      // Grow (or compact) into a new buffer; frames already returned are copies.
      const capacity = Math.max(needed, Math.min(2 * this.#buffer.length, this.#maxFrameBytes + 9), 64);
      const next = new Uint8Array(capacity);
      next.set(this.#buffer.subarray(this.#start, this.#end));
      this.#buffer = next;
      this.#end -= this.#start;
      this.#start = 0;
    }
    this.#buffer.set(chunk, this.#end);
    this.#end += chunk.length;
  }
}
