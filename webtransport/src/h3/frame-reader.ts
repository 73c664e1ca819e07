/**
 * Incremental HTTP/3 frame parser for one stream (RFC 9114 §7.1), fed any
 * number of bytes at a time. DATA payloads are passed through in chunks as they
 * arrive (never buffered whole); other known frames are buffered up to
 * `maxFrameBytes`; unknown and GREASE frames are skipped without buffering
 * (RFC 9114 §9).
 */

import { readVarintLossy } from '../varint.ts';
import { H3Error } from './errors.ts';
import { FRAME } from './frames.ts';

export type FrameEvent =
  | { readonly kind: 'frame'; readonly type: number; readonly payload: Uint8Array }
  | { readonly kind: 'data'; readonly chunk: Uint8Array }
  /** An unknown frame type, reported once when its header is read (its payload is skipped). */
  | { readonly kind: 'unknown'; readonly type: number; readonly length: number };

/** Frame types whose payload the reader buffers in full. */
const BUFFERED_TYPES: ReadonlySet<number> = new Set([
  FRAME.HEADERS,
  FRAME.SETTINGS,
  FRAME.GOAWAY,
  FRAME.CANCEL_PUSH,
  FRAME.MAX_PUSH_ID,
  FRAME.PUSH_PROMISE,
  // Reserved HTTP/2 types: buffered so the caller sees and rejects them.
  0x02,
  0x06,
  0x08,
  0x09,
]);

export class FrameReader {
  readonly #maxFrameBytes: number;
  /** Header bytes (type and length varints) not yet complete. */
  #header: Uint8Array = new Uint8Array(0);
  #type = -1;
  /** Payload bytes still expected for the current frame. */
  #remaining = 0;
  #payload: Uint8Array | undefined;
  #payloadFilled = 0;
  #skipping = false;

  constructor(maxFrameBytes: number) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** True between frames: a FIN here ends the stream cleanly. */
  get atFrameBoundary(): boolean {
    return this.#type === -1 && this.#header.length === 0;
  }

  push(bytes: Uint8Array): FrameEvent[] {
    const events: FrameEvent[] = [];
    let offset = 0;
    while (offset < bytes.length) {
      if (this.#type === -1) {
        offset = this.#readHeader(bytes, offset, events);
        continue;
      }
      const take = Math.min(this.#remaining, bytes.length - offset);
      const chunk = bytes.subarray(offset, offset + take);
      offset += take;
      this.#remaining -= take;
      if (this.#payload !== undefined) {
        this.#payload.set(chunk, this.#payloadFilled);
        this.#payloadFilled += take;
      } else if (!this.#skipping && take > 0) {
        events.push({ kind: 'data', chunk });
      }
      if (this.#remaining === 0) this.#finishFrame(events);
    }
    return events;
  }

  #readHeader(bytes: Uint8Array, offset: number, events: FrameEvent[]): number {
    // Parse from leftover header bytes plus the new input, without copying all of it.
    const available = Math.min(bytes.length - offset, 16);
    const window = new Uint8Array(this.#header.length + available);
    window.set(this.#header);
    window.set(bytes.subarray(offset, offset + available), this.#header.length);
    const type = readVarintLossy(window, 0);
    const length = type === undefined ? undefined : readVarintLossy(window, type.next);
    if (type === undefined || length === undefined) {
      this.#header = window;
      return offset + available;
    }
    const consumed = length.next - this.#header.length;
    this.#header = new Uint8Array(0);
    this.#type = type.value;
    this.#remaining = length.value;
    this.#payload = undefined;
    this.#payloadFilled = 0;
    this.#skipping = false;
    if (BUFFERED_TYPES.has(type.value)) {
      if (length.value > this.#maxFrameBytes) {
        throw new H3Error(
          'H3_EXCESSIVE_LOAD',
          `frame 0x${type.value.toString(16)} of ${length.value} bytes exceeds limit`,
        );
      }
      this.#payload = new Uint8Array(length.value);
    } else if (type.value !== FRAME.DATA) {
      this.#skipping = true;
      events.push({ kind: 'unknown', type: type.value, length: length.value });
    }
    if (this.#remaining === 0) this.#finishFrame(events);
    return offset + consumed;
  }

  #finishFrame(events: FrameEvent[]): void {
    if (this.#payload !== undefined) events.push({ kind: 'frame', type: this.#type, payload: this.#payload });
    this.#type = -1;
    this.#payload = undefined;
    this.#skipping = false;
  }
}
