/**
 * The peer's control stream (RFC 9114 §6.2.1), after its stream type: SETTINGS
 * first and once, then GOAWAY, MAX_PUSH_ID and CANCEL_PUSH; unknown and GREASE
 * frames are skipped (§9). It is critical: its end is H3_CLOSED_CRITICAL_STREAM.
 */
import { readVarintLossy } from '../varint.ts';
import { H3Error } from './errors.ts';
import type { H3Event } from './events.ts';
import { FrameReader } from './frame-reader.ts';
import { FRAME } from './frames.ts';
import { decodeSettings } from './settings.ts';
import type { Role } from './stream-ids.ts';

export class PeerControlStream {
  readonly kind = 'control';
  readonly #role: Role;
  readonly #frames: FrameReader;
  #settings: ReadonlyMap<number, number> | undefined;

  /** `role` is this endpoint's: which frames the peer may send depends on it. */
  constructor(role: Role, maxFrameBytes: number) {
    this.#role = role;
    this.#frames = new FrameReader(maxFrameBytes);
  }

  /** The peer's SETTINGS, once they arrived. */
  get settings(): ReadonlyMap<number, number> | undefined {
    return this.#settings;
  }

  receive(data: Uint8Array, fin: boolean, events: H3Event[]): void {
    if (fin) throw new H3Error('H3_CLOSED_CRITICAL_STREAM', 'control stream closed');
    for (const event of this.#frames.push(data)) {
      if (event.kind === 'unknown') continue;
      if (this.#settings === undefined) {
        // §6.2.1: SETTINGS is the first frame; any other first frame is H3_MISSING_SETTINGS.
        if (event.kind !== 'frame' || event.type !== FRAME.SETTINGS) {
          throw new H3Error('H3_MISSING_SETTINGS', 'control stream must start with SETTINGS');
        }
        const settings = decodeSettings(event.payload);
        this.#settings = settings;
        events.push({ type: 'settings', settings });
        continue;
      }
      if (event.kind === 'data') throw new H3Error('H3_FRAME_UNEXPECTED', 'frame 0x0 on the control stream');
      this.#receiveFrame(event.type, event.payload, events);
    }
  }

  #receiveFrame(type: number, payload: Uint8Array, events: H3Event[]): void {
    switch (type) {
      case FRAME.GOAWAY: {
        // §7.2.6: one varint, the first stream (or push) id that will not be processed.
        const id = readVarintLossy(payload, 0);
        if (id === undefined || id.next !== payload.length) throw new H3Error('H3_FRAME_ERROR', 'malformed GOAWAY');
        events.push({ type: 'goaway', id: id.value });
        return;
      }
      case FRAME.MAX_PUSH_ID:
        // §7.2.7: only clients send it.
        if (this.#role === 'client') throw new H3Error('H3_FRAME_UNEXPECTED', 'MAX_PUSH_ID sent by a server');
        return; // this endpoint never pushes: nothing to do
      case FRAME.CANCEL_PUSH:
        return; // no push was ever promised or allowed: nothing to cancel
      default:
        // A second SETTINGS (§7.2.4), HEADERS, PUSH_PROMISE and the reserved HTTP/2 types (§7.2.8).
        throw new H3Error('H3_FRAME_UNEXPECTED', `frame 0x${type.toString(16)} on the control stream`);
    }
  }
}
