/**
 * Sans-I/O HTTP/3 connection (RFC 9114) with the extensions WebTransport needs:
 * extended CONNECT (RFC 9220), HTTP datagrams and capsules (RFC 9297) and
 * WebTransport streams (draft-ietf-webtrans-http3-02 §4).
 *
 * It never touches a socket: the QUIC edge feeds it stream bytes, resets and
 * datagrams, and takes back events and actions (bytes to write, streams to
 * reset). Connection errors are thrown as `H3Error` (scope `connection`): the
 * edge closes the QUIC connection with `wireCode` in one place. Stream errors are
 * turned into reset actions here.
 */
import { decodeFieldSection, encodeFieldSection, type FieldLine } from '../qpack/field-section.ts';
import { readPrefixedInteger } from '../qpack/prefixed-integer.ts';
import { readVarintLossy } from '../varint.ts';
import type { WebTransportLimits } from '../webtransport/limits.ts';
import { type Capsule, CapsuleReader } from './capsule-reader.ts';
import { H3_ERROR, H3Error } from './errors.ts';
import { FrameReader } from './frame-reader.ts';
import { concatWire, encodeFrame, encodeGoaway, encodeSettings, FRAME, SETTING, UNI_STREAM } from './frames.ts';
import { decodeSettings } from './settings.ts';
import { isBidirectional, isLocallyInitiated, StreamIdAllocator } from './stream-ids.ts';

export type Role = 'client' | 'server';

export type H3Event =
  | { readonly type: 'settings'; readonly settings: ReadonlyMap<number, number> }
  /** A request (server) or response (client) head on a request stream. */
  | { readonly type: 'headers'; readonly streamId: number; readonly fields: FieldLine[] }
  /** Body bytes of an ordinary request or response (not a WebTransport session). */
  | { readonly type: 'body'; readonly streamId: number; readonly chunk: Uint8Array }
  /** A capsule on an established WebTransport CONNECT stream. */
  | { readonly type: 'capsule'; readonly streamId: number; readonly capsule: Capsule }
  /** The peer finished its side of a request stream. */
  | { readonly type: 'request-end'; readonly streamId: number }
  /** The peer reset a request stream (for a session: abrupt close). */
  | { readonly type: 'request-reset'; readonly streamId: number; readonly code: number }
  /** A new WebTransport stream; later bytes bypass the HTTP/3 layer. */
  | {
      readonly type: 'webtransport-stream';
      readonly sessionId: number;
      readonly streamId: number;
      readonly bidirectional: boolean;
      readonly data: Uint8Array;
      readonly fin: boolean;
    }
  | { readonly type: 'datagram'; readonly sessionId: number; readonly payload: Uint8Array }
  | { readonly type: 'goaway'; readonly id: number };

export type H3Action =
  | { readonly type: 'write'; readonly streamId: number; readonly data: Uint8Array; readonly fin: boolean }
  /** Reset our sending side and ask the peer to stop (STOP_SENDING) with `code`. */
  | { readonly type: 'reset'; readonly streamId: number; readonly code: number };

type StreamKind =
  | 'uni-pending'
  | 'bidi-pending'
  | 'control'
  | 'qpack-encoder'
  | 'qpack-decoder'
  | 'discard'
  | 'request'
  | 'webtransport';

interface StreamState {
  kind: StreamKind;
  /** Bytes of a stream header (type varint, session id) not yet complete. */
  prefix: Uint8Array;
  frames: FrameReader | undefined;
  /** For request streams: whether the head (first HEADERS) arrived. */
  headReceived: boolean;
  /** Set once this request stream carries an established WebTransport session. */
  capsules: CapsuleReader | undefined;
  /** A WebTransport session whose CONNECT got its 2xx. */
  established: boolean;
  receivedSettings: boolean;
}

export interface H3ConnectionOptions {
  readonly role: Role;
  readonly limits: WebTransportLimits;
}

/** An extended CONNECT for WebTransport (RFC 9220 §3, draft-ietf-webtrans-http3 §3.2). */
function isWebTransportConnect(fields: readonly FieldLine[]): boolean {
  let connect = false;
  let webTransport = false;
  for (const { name, value } of fields) {
    if (name === ':method') connect = value === 'CONNECT';
    else if (name === ':protocol') webTransport = value === 'webtransport';
  }
  return connect && webTransport;
}

export class H3Connection {
  readonly role: Role;
  readonly #limits: WebTransportLimits;
  readonly #streams = new Map<number, StreamState>();
  readonly #ids: StreamIdAllocator;
  #actions: H3Action[] = [];
  #peerSettings: ReadonlyMap<number, number> | undefined;
  #peerControlStream: number | undefined;
  #peerEncoderStream: number | undefined;
  #peerDecoderStream: number | undefined;
  #started = false;
  #controlStream: number | undefined;

  constructor(options: H3ConnectionOptions) {
    this.role = options.role;
    this.#limits = options.limits;
    this.#ids = new StreamIdAllocator(options.role);
  }

  get peerSettings(): ReadonlyMap<number, number> | undefined {
    return this.#peerSettings;
  }

  /** The settings this endpoint sends (RFC 9114 §7.2.4, RFC 9220, RFC 9297, WebTransport drafts). */
  localSettings(): Map<number, number> {
    return new Map<number, number>([
      [SETTING.QPACK_MAX_TABLE_CAPACITY, 0],
      [SETTING.QPACK_BLOCKED_STREAMS, 0],
      [SETTING.MAX_FIELD_SECTION_SIZE, this.#limits.maxFieldSectionSize],
      [SETTING.ENABLE_CONNECT_PROTOCOL, 1],
      [SETTING.H3_DATAGRAM, 1],
      [SETTING.ENABLE_WEBTRANSPORT, 1],
      [SETTING.WT_MAX_SESSIONS, this.#limits.maxSessionsPerConnection],
    ]);
  }

  /** Opens the control stream with SETTINGS (RFC 9114 §6.2.1). Call once, when QUIC is established. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    const control = this.#ids.next(false);
    this.#controlStream = control;
    this.#write(control, concatWire([UNI_STREAM.CONTROL, encodeSettings(this.localSettings())]), false);
  }

  /**
   * Starts a graceful shutdown (RFC 9114 §5.2): GOAWAY names the first request
   * stream that will not be processed. Servers pass the next client bidi id.
   */
  goaway(id: number): void {
    if (this.#controlStream === undefined) return;
    this.#write(this.#controlStream, encodeGoaway(id), false);
  }

  /** Takes the actions queued since the last call. */
  takeActions(): H3Action[] {
    const actions = this.#actions;
    this.#actions = [];
    return actions;
  }

  /** Whether bytes on this stream now belong to a WebTransport stream, past the HTTP/3 layer. */
  isWebTransportStream(streamId: number): boolean {
    return this.#streams.get(streamId)?.kind === 'webtransport';
  }

  /** Client: sends request HEADERS on a new bidirectional stream and returns its id. */
  openRequest(fields: readonly FieldLine[]): number {
    const streamId = this.#ids.next(true);
    const state = this.#newState('request');
    state.frames = new FrameReader(this.#limits.maxFrameBytes);
    if (isWebTransportConnect(fields)) state.capsules = new CapsuleReader(this.#limits.maxCapsuleBytes);
    this.#streams.set(streamId, state);
    this.sendHeaders(streamId, fields, false);
    return streamId;
  }

  sendHeaders(streamId: number, fields: readonly FieldLine[], fin: boolean): void {
    this.#write(streamId, encodeFrame(FRAME.HEADERS, encodeFieldSection(fields)), fin);
  }

  /** Marks a request stream as an established WebTransport session: datagrams for it are now delivered. */
  establishSession(streamId: number): void {
    const state = this.#streams.get(streamId);
    if (state === undefined || state.kind !== 'request') return;
    state.established = true;
    state.capsules ??= new CapsuleReader(this.#limits.maxCapsuleBytes);
  }

  /** Sends a capsule in a DATA frame on a CONNECT stream (RFC 9297 §3.2). */
  sendCapsule(streamId: number, type: number, value: Uint8Array, fin: boolean): void {
    this.#write(streamId, encodeFrame(FRAME.DATA, concatWire([type, value.length, value])), fin);
  }

  /** Ends our side of a request stream. */
  finish(streamId: number): void {
    this.#write(streamId, new Uint8Array(0), true);
  }

  /** Allocates a WebTransport stream and returns its id and the header to write first (§4.1, §4.2). */
  openWebTransportStream(sessionId: number, bidirectional: boolean): { streamId: number; header: Uint8Array } {
    const streamId = this.#ids.next(bidirectional);
    this.#streams.set(streamId, this.#newState('webtransport'));
    const header = concatWire([bidirectional ? FRAME.WEBTRANSPORT_STREAM : UNI_STREAM.WEBTRANSPORT, sessionId]);
    return { streamId, header };
  }

  /** An HTTP datagram for a session: quarter stream id, then payload (RFC 9297 §2.1). */
  encodeDatagram(sessionId: number, payload: Uint8Array): Uint8Array {
    return concatWire([sessionId / 4, payload]);
  }

  /** Forgets a stream that is finished in both directions. */
  forget(streamId: number): void {
    this.#streams.delete(streamId);
  }

  receiveDatagram(bytes: Uint8Array): H3Event[] {
    const quarter = readVarintLossy(bytes, 0);
    // RFC 9297 §2.1: a datagram too short for its quarter stream id is H3_DATAGRAM_ERROR.
    if (quarter === undefined) throw new H3Error('H3_DATAGRAM_ERROR', 'datagram without a quarter stream id');
    const sessionId = quarter.value * 4;
    const session = this.#streams.get(sessionId);
    if (session === undefined || !session.established) return []; // unknown or closed session: drop
    return [{ type: 'datagram', sessionId, payload: bytes.subarray(quarter.next) }];
  }

  receiveStreamReset(streamId: number, code: number): H3Event[] {
    const state = this.#streams.get(streamId);
    if (state === undefined) return [];
    if (state.kind === 'control' || state.kind === 'qpack-encoder' || state.kind === 'qpack-decoder') {
      throw new H3Error('H3_CLOSED_CRITICAL_STREAM', `critical stream ${streamId} was reset`);
    }
    if (state.kind === 'request') return [{ type: 'request-reset', streamId, code }];
    return [];
  }

  /** Feeds bytes the peer sent on `streamId` (and whether they end it). */
  receiveStreamData(streamId: number, data: Uint8Array, fin: boolean): H3Event[] {
    const events: H3Event[] = [];
    let state = this.#streams.get(streamId);
    if (state === undefined) {
      if (isLocallyInitiated(streamId, this.role)) return events; // a stream we already forgot
      state = this.#newState(isBidirectional(streamId) ? 'bidi-pending' : 'uni-pending');
      this.#streams.set(streamId, state);
    }
    try {
      this.#dispatch(streamId, state, data, fin, events);
    } catch (error) {
      if (!(error instanceof H3Error) || error.scope !== 'stream') throw error;
      this.#actions.push({ type: 'reset', streamId, code: error.wireCode });
      state.kind = 'discard';
    }
    return events;
  }

  #dispatch(streamId: number, state: StreamState, data: Uint8Array, fin: boolean, events: H3Event[]): void {
    switch (state.kind) {
      case 'uni-pending':
        this.#classifyUni(streamId, state, data, fin, events);
        return;
      case 'bidi-pending':
        this.#classifyBidi(streamId, state, data, fin, events);
        return;
      case 'control':
        this.#receiveControl(state, data, fin, events);
        return;
      case 'qpack-encoder':
        this.#receiveEncoderInstructions(state, data, fin);
        return;
      case 'qpack-decoder':
        this.#receiveDecoderInstructions(state, data, fin);
        return;
      case 'request':
        this.#receiveRequest(streamId, state, data, fin, events);
        return;
      case 'webtransport':
        // The edge routes WebTransport bytes past this layer; nothing to do.
        return;
      case 'discard':
        return;
    }
  }

  #newState(kind: StreamKind): StreamState {
    return {
      kind,
      prefix: new Uint8Array(0),
      frames: undefined,
      headReceived: false,
      capsules: undefined,
      established: false,
      receivedSettings: false,
    };
  }

  #write(streamId: number, data: Uint8Array, fin: boolean): void {
    this.#actions.push({ type: 'write', streamId, data, fin });
  }

  /** Joins stream-header bytes received so far with new ones. */
  #withPrefix(state: StreamState, data: Uint8Array): Uint8Array {
    if (state.prefix.length === 0) return data;
    const joined = new Uint8Array(state.prefix.length + data.length);
    joined.set(state.prefix);
    joined.set(data, state.prefix.length);
    state.prefix = new Uint8Array(0);
    return joined;
  }

  #classifyUni(streamId: number, state: StreamState, data: Uint8Array, fin: boolean, events: H3Event[]): void {
    const bytes = this.#withPrefix(state, data);
    const type = readVarintLossy(bytes, 0);
    if (type === undefined) {
      state.prefix = bytes;
      return; // RFC 9114 §6.2: a stream that ends before its type is simply ignored
    }
    const rest = bytes.subarray(type.next);
    switch (type.value) {
      case UNI_STREAM.CONTROL:
        if (this.#peerControlStream !== undefined) {
          throw new H3Error('H3_STREAM_CREATION_ERROR', 'second control stream');
        }
        this.#peerControlStream = streamId;
        state.kind = 'control';
        state.frames = new FrameReader(this.#limits.maxFrameBytes);
        this.#receiveControl(state, rest, fin, events);
        return;
      case UNI_STREAM.QPACK_ENCODER:
        if (this.#peerEncoderStream !== undefined)
          throw new H3Error('H3_STREAM_CREATION_ERROR', 'second encoder stream');
        this.#peerEncoderStream = streamId;
        state.kind = 'qpack-encoder';
        this.#receiveEncoderInstructions(state, rest, fin);
        return;
      case UNI_STREAM.QPACK_DECODER:
        if (this.#peerDecoderStream !== undefined)
          throw new H3Error('H3_STREAM_CREATION_ERROR', 'second decoder stream');
        this.#peerDecoderStream = streamId;
        state.kind = 'qpack-decoder';
        this.#receiveDecoderInstructions(state, rest, fin);
        return;
      case UNI_STREAM.PUSH:
        // §6.2.2: only servers push, and only after MAX_PUSH_ID, which Pulse never sends.
        if (this.role === 'server') throw new H3Error('H3_STREAM_CREATION_ERROR', 'client opened a push stream');
        throw new H3Error('H3_ID_ERROR', 'push stream without MAX_PUSH_ID');
      case UNI_STREAM.WEBTRANSPORT:
        this.#classifyWebTransport(streamId, state, rest, fin, false, events);
        return;
      default:
        // §6.2.3: unknown (and GREASE) stream types are ignored; ask the peer to stop sending.
        state.kind = 'discard';
        this.#actions.push({ type: 'reset', streamId, code: H3_ERROR.H3_STREAM_CREATION_ERROR });
    }
  }

  #classifyBidi(streamId: number, state: StreamState, data: Uint8Array, fin: boolean, events: H3Event[]): void {
    const bytes = this.#withPrefix(state, data);
    const signal = readVarintLossy(bytes, 0);
    if (signal === undefined) {
      state.prefix = bytes;
      if (fin) state.kind = 'discard';
      return;
    }
    if (signal.value === FRAME.WEBTRANSPORT_STREAM) {
      this.#classifyWebTransport(streamId, state, bytes.subarray(signal.next), fin, true, events);
      return;
    }
    // RFC 9114 §6.1: clients never receive server-initiated bidirectional request streams.
    if (this.role === 'client') throw new H3Error('H3_STREAM_CREATION_ERROR', 'server opened a request stream');
    state.kind = 'request';
    state.frames = new FrameReader(this.#limits.maxFrameBytes);
    this.#receiveRequest(streamId, state, bytes, fin, events);
  }

  #classifyWebTransport(
    streamId: number,
    state: StreamState,
    bytes: Uint8Array,
    fin: boolean,
    bidirectional: boolean,
    events: H3Event[],
  ): void {
    const session = readVarintLossy(bytes, 0);
    if (session === undefined) {
      // Keep the signal so the next call classifies again.
      const signal = bidirectional ? FRAME.WEBTRANSPORT_STREAM : UNI_STREAM.WEBTRANSPORT;
      state.prefix = concatWire([signal, bytes]);
      if (fin) state.kind = 'discard';
      return;
    }
    // The session id must name a client-initiated bidirectional stream (§4.1, §4.2).
    if (!isBidirectional(session.value) || !isLocallyInitiated(session.value, 'client')) {
      throw new H3Error('H3_ID_ERROR', `invalid WebTransport session id ${session.value}`);
    }
    state.kind = 'webtransport';
    events.push({
      type: 'webtransport-stream',
      sessionId: session.value,
      streamId,
      bidirectional,
      data: bytes.subarray(session.next),
      fin,
    });
  }

  #receiveControl(state: StreamState, data: Uint8Array, fin: boolean, events: H3Event[]): void {
    if (fin) throw new H3Error('H3_CLOSED_CRITICAL_STREAM', 'control stream closed');
    for (const event of (state.frames as FrameReader).push(data)) {
      if (event.kind === 'unknown') continue; // §9: unknown and GREASE frames are ignored
      const type = event.kind === 'data' ? FRAME.DATA : event.type;
      if (!state.receivedSettings) {
        if (type !== FRAME.SETTINGS)
          throw new H3Error('H3_MISSING_SETTINGS', 'control stream must start with SETTINGS');
        state.receivedSettings = true;
        const settings = decodeSettings((event as { payload: Uint8Array }).payload);
        this.#peerSettings = settings;
        events.push({ type: 'settings', settings });
        continue;
      }
      if (type === FRAME.GOAWAY && event.kind === 'frame') {
        const id = readVarintLossy(event.payload, 0);
        if (id === undefined || id.next !== event.payload.length)
          throw new H3Error('H3_FRAME_ERROR', 'malformed GOAWAY');
        events.push({ type: 'goaway', id: id.value });
      } else if (type === FRAME.MAX_PUSH_ID || type === FRAME.CANCEL_PUSH) {
        if (type === FRAME.MAX_PUSH_ID && this.role === 'client') {
          throw new H3Error('H3_FRAME_UNEXPECTED', 'MAX_PUSH_ID sent by a server');
        }
        // Pulse never pushes: nothing to do.
      } else {
        throw new H3Error('H3_FRAME_UNEXPECTED', `frame 0x${type.toString(16)} on the control stream`);
      }
    }
  }

  #receiveRequest(streamId: number, state: StreamState, data: Uint8Array, fin: boolean, events: H3Event[]): void {
    for (const event of (state.frames as FrameReader).push(data)) {
      if (event.kind === 'unknown') continue;
      if (event.kind === 'data') {
        if (!state.headReceived) throw new H3Error('H3_FRAME_UNEXPECTED', 'DATA before HEADERS');
        if (state.capsules !== undefined) {
          for (const capsule of state.capsules.push(event.chunk)) events.push({ type: 'capsule', streamId, capsule });
        } else {
          events.push({ type: 'body', streamId, chunk: event.chunk });
        }
        continue;
      }
      if (event.type === FRAME.HEADERS) {
        if (state.headReceived) continue; // trailers (or a second head after 1xx) carry nothing we use
        state.headReceived = true;
        const fields = decodeFieldSection(event.payload, this.#limits.maxFieldSectionSize);
        // RFC 9297 §3.2: the data stream of a WebTransport CONNECT carries capsules from its first byte,
        // even before the response (a peer may send a capsule right behind the request).
        if (state.capsules === undefined && isWebTransportConnect(fields)) {
          state.capsules = new CapsuleReader(this.#limits.maxCapsuleBytes);
        }
        events.push({ type: 'headers', streamId, fields });
        continue;
      }
      if (event.type === FRAME.PUSH_PROMISE && this.role === 'client') {
        throw new H3Error('H3_ID_ERROR', 'PUSH_PROMISE without MAX_PUSH_ID');
      }
      // SETTINGS, GOAWAY, MAX_PUSH_ID, CANCEL_PUSH and the reserved HTTP/2 types (§7.2.8).
      throw new H3Error('H3_FRAME_UNEXPECTED', `frame 0x${event.type.toString(16)} on a request stream`);
    }
    if (fin) {
      if (!(state.frames as FrameReader).atFrameBoundary) {
        throw new H3Error('H3_FRAME_ERROR', 'request stream ended inside a frame', 'stream', streamId);
      }
      events.push({ type: 'request-end', streamId });
    }
  }

  /** QPACK encoder stream (RFC 9204 §4.3): with capacity 0 only "Set Dynamic Table Capacity 0" is legal. */
  #receiveEncoderInstructions(state: StreamState, data: Uint8Array, fin: boolean): void {
    if (fin) throw new H3Error('H3_CLOSED_CRITICAL_STREAM', 'QPACK encoder stream closed');
    const bytes = this.#withPrefix(state, data);
    let offset = 0;
    while (offset < bytes.length) {
      const first = bytes[offset] as number;
      if ((first & 0xe0) !== 0x20) {
        throw new H3Error('QPACK_ENCODER_STREAM_ERROR', 'dynamic table insert with capacity 0');
      }
      const capacity = this.#tryInteger(bytes, offset, 5, 'QPACK_ENCODER_STREAM_ERROR');
      if (capacity === undefined) break;
      if (capacity.value !== 0) throw new H3Error('QPACK_ENCODER_STREAM_ERROR', 'dynamic table capacity above 0');
      offset = capacity.next;
    }
    state.prefix = bytes.slice(offset);
  }

  /** QPACK decoder stream (RFC 9204 §4.4): Pulse never uses the dynamic table, so only Stream Cancellation is legal. */
  #receiveDecoderInstructions(state: StreamState, data: Uint8Array, fin: boolean): void {
    if (fin) throw new H3Error('H3_CLOSED_CRITICAL_STREAM', 'QPACK decoder stream closed');
    const bytes = this.#withPrefix(state, data);
    let offset = 0;
    while (offset < bytes.length) {
      const first = bytes[offset] as number;
      if ((first & 0xc0) !== 0x40) {
        throw new H3Error('QPACK_DECODER_STREAM_ERROR', 'acknowledgement for a dynamic table never used');
      }
      const cancelled = this.#tryInteger(bytes, offset, 6, 'QPACK_DECODER_STREAM_ERROR');
      if (cancelled === undefined) break;
      offset = cancelled.next;
    }
    state.prefix = bytes.slice(offset);
  }

  /** A prefixed integer, or undefined when its bytes have not all arrived. */
  #tryInteger(
    bytes: Uint8Array,
    offset: number,
    prefixBits: number,
    code: 'QPACK_ENCODER_STREAM_ERROR' | 'QPACK_DECODER_STREAM_ERROR',
  ): { value: number; next: number } | undefined {
    try {
      return readPrefixedInteger(bytes, offset, prefixBits);
    } catch (error) {
      if (H3Error.is(error) && error.message === 'truncated integer' && bytes.length - offset <= 8) return undefined;
      throw new H3Error(code, 'malformed instruction integer');
    }
  }
}
