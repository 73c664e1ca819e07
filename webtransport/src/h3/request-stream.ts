/**
 * A request stream as this endpoint reads it (RFC 9114 §4.1, §6.1): the peer's
 * HEADERS, then DATA. For a WebTransport extended CONNECT (RFC 9220 §3,
 * draft-ietf-webtrans-http3 §3.2) the DATA carries capsules (RFC 9297 §3.2), and
 * once the session is established its datagrams are delivered.
 */
import { decodeFieldSection, type FieldLine } from '../qpack/field-section.ts';
import type { WebTransportLimits } from '../webtransport/limits.ts';
import { CapsuleReader } from './capsule-reader.ts';
import { H3Error } from './errors.ts';
import type { H3Event } from './events.ts';
import { FrameReader } from './frame-reader.ts';
import { FRAME } from './frames.ts';
import type { Role } from './stream-ids.ts';

/** An extended CONNECT for WebTransport (RFC 9220 §3, draft-ietf-webtrans-http3 §3.2). */
export function isWebTransportConnect(fields: readonly FieldLine[]): boolean {
  let connect = false;
  let webTransport = false;
  for (const { name, value } of fields) {
    if (name === ':method') connect = value === 'CONNECT';
    else if (name === ':protocol') webTransport = value === 'webtransport';
  }
  return connect && webTransport;
}

type RequestStreamLimits = Pick<WebTransportLimits, 'maxFrameBytes' | 'maxFieldSectionSize' | 'maxCapsuleBytes'>;

export class RequestStream {
  readonly kind = 'request';
  readonly streamId: number;
  readonly #role: Role;
  readonly #limits: RequestStreamLimits;
  readonly #frames: FrameReader;
  #headReceived = false;
  /** Set once the stream is known to carry a WebTransport session: DATA is parsed as capsules. */
  #capsules: CapsuleReader | undefined;
  #established = false;

  /** `role` is this endpoint's; `webTransport`: we sent this stream's extended CONNECT ourselves. */
  constructor(streamId: number, role: Role, limits: RequestStreamLimits, webTransport = false) {
    this.streamId = streamId;
    this.#role = role;
    this.#limits = limits;
    this.#frames = new FrameReader(limits.maxFrameBytes);
    if (webTransport) this.#capsules = new CapsuleReader(limits.maxCapsuleBytes);
  }

  /** A WebTransport session whose CONNECT got its 2xx: its datagrams are delivered. */
  get established(): boolean {
    return this.#established;
  }

  establish(): void {
    this.#established = true;
    this.#capsules ??= new CapsuleReader(this.#limits.maxCapsuleBytes);
  }

  receive(data: Uint8Array, fin: boolean, events: H3Event[]): void {
    const streamId = this.streamId;
    for (const event of this.#frames.push(data)) {
      if (event.kind === 'unknown') continue; // §9: unknown and GREASE frames are ignored
      if (event.kind === 'data') {
        if (!this.#headReceived) throw new H3Error('H3_FRAME_UNEXPECTED', 'DATA before HEADERS');
        if (this.#capsules !== undefined) {
          for (const capsule of this.#capsules.push(event.chunk)) events.push({ type: 'capsule', streamId, capsule });
        } else {
          events.push({ type: 'body', streamId, chunk: event.chunk });
        }
        continue;
      }
      if (event.type === FRAME.HEADERS) {
        if (this.#headReceived) continue; // trailers (or a second head after 1xx) carry nothing we use
        this.#headReceived = true;
        const fields = decodeFieldSection(event.payload, this.#limits.maxFieldSectionSize);
        // RFC 9297 §3.2: the data stream of a WebTransport CONNECT carries capsules from its first byte,
        // even before the response (a peer may send a capsule right behind the request).
        if (this.#capsules === undefined && isWebTransportConnect(fields)) {
          this.#capsules = new CapsuleReader(this.#limits.maxCapsuleBytes);
        }
        events.push({ type: 'headers', streamId, fields });
        continue;
      }
      if (event.type === FRAME.PUSH_PROMISE && this.#role === 'client') {
        throw new H3Error('H3_ID_ERROR', 'PUSH_PROMISE without MAX_PUSH_ID');
      }
      // SETTINGS, GOAWAY, MAX_PUSH_ID, CANCEL_PUSH and the reserved HTTP/2 types (§7.2.8).
      throw new H3Error('H3_FRAME_UNEXPECTED', `frame 0x${event.type.toString(16)} on a request stream`);
    }
    if (fin) {
      if (!this.#frames.atFrameBoundary) {
        throw new H3Error('H3_FRAME_ERROR', 'request stream ended inside a frame', 'stream', streamId);
      }
      events.push({ type: 'request-end', streamId });
    }
  }
}
