/**
 * Capsule Protocol parser (RFC 9297 §3.2) for the data stream of a WebTransport
 * CONNECT stream: the DATA frame payloads form a sequence of type, length,
 * value. Capsules larger than `maxCapsuleBytes` are refused (H3_EXCESSIVE_LOAD);
 * unknown capsule types are returned too and the caller ignores them (§3.2).
 */

import { readVarintLossy } from '../varint.ts';
import { H3Error } from './errors.ts';

export interface Capsule {
  readonly type: number;
  readonly value: Uint8Array;
}

export class CapsuleReader {
  readonly #maxCapsuleBytes: number;
  #buffer: Uint8Array = new Uint8Array(0);

  constructor(maxCapsuleBytes: number) {
    this.#maxCapsuleBytes = maxCapsuleBytes;
  }

  /** True when no partial capsule is pending: a FIN here is clean. */
  get empty(): boolean {
    return this.#buffer.length === 0;
  }

  push(bytes: Uint8Array): Capsule[] {
    let buffer = bytes;
    if (this.#buffer.length > 0) {
      buffer = new Uint8Array(this.#buffer.length + bytes.length);
      buffer.set(this.#buffer);
      buffer.set(bytes, this.#buffer.length);
    }
    const capsules: Capsule[] = [];
    let offset = 0;
    for (;;) {
      const type = readVarintLossy(buffer, offset);
      const length = type === undefined ? undefined : readVarintLossy(buffer, type.next);
      if (type === undefined || length === undefined) break;
      if (length.value > this.#maxCapsuleBytes) {
        throw new H3Error('H3_EXCESSIVE_LOAD', `capsule of ${length.value} bytes exceeds limit`);
      }
      const end = length.next + length.value;
      if (end > buffer.length) break;
      capsules.push({ type: type.value, value: buffer.slice(length.next, end) });
      offset = end;
    }
    this.#buffer = buffer.slice(offset);
    return capsules;
  }
}
