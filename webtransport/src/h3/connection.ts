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
 *
 * Each stream has the state of its kind: a peer stream starts pending until its
 * type (or first varint) is read, then becomes the control stream, a QPACK
 * instruction stream, a request stream, a WebTransport stream, or ignored.
 */
import { encodeFieldSection, type FieldLine } from '../qpack/field-section.ts';
import { DecoderInstructionStream, EncoderInstructionStream } from '../qpack/instruction-streams.ts';
import { readVarintLossy } from '../varint.ts';
import type { WebTransportLimits } from '../webtransport/limits.ts';
import { PeerControlStream } from './control-stream.ts';
import { H3_ERROR, H3Error } from './errors.ts';
import type { H3Action, H3Event } from './events.ts';
import { concatWire, encodeFrame, encodeGoaway, encodeSettings, FRAME, SETTING, UNI_STREAM } from './frames.ts';
import { isWebTransportConnect, RequestStream } from './request-stream.ts';
import { isBidirectional, isLocallyInitiated, type Role, StreamIdAllocator } from './stream-ids.ts';

/** A peer stream whose type (uni, RFC 9114 §6.2) or first varint (bidi, draft §4.2) is not complete yet. */
interface PendingStream {
  readonly kind: 'pending';
  /** Bytes of the stream header received so far. */
  prefix: Uint8Array;
}

/** A WebTransport stream (draft §4.1, §4.2): its bytes bypass HTTP/3 once the header is read. */
interface WebTransportStream {
  readonly kind: 'webtransport';
  readonly sessionId: number;
  readonly bidirectional: boolean;
}

/** Unknown (or GREASE) stream types, and streams refused after a stream error: their bytes are dropped. */
interface IgnoredStream {
  readonly kind: 'ignored';
}

type StreamState =
  | PendingStream
  | PeerControlStream
  | EncoderInstructionStream
  | DecoderInstructionStream
  | RequestStream
  | WebTransportStream
  | IgnoredStream;

const IGNORED: IgnoredStream = { kind: 'ignored' };
const EMPTY = new Uint8Array(0);

export interface H3ConnectionOptions {
  readonly role: Role;
  readonly limits: WebTransportLimits;
}

export class H3Connection {
  readonly role: Role;
  readonly #limits: WebTransportLimits;
  readonly #streams = new Map<number, StreamState>();
  readonly #ids: StreamIdAllocator;
  #actions: H3Action[] = [];
  #peerControl: PeerControlStream | undefined;
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
    return this.#peerControl?.settings;
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

  /** Whether this is a peer stream whose type (or first varint) has not been read yet. */
  awaitsStreamHeader(streamId: number): boolean {
    const state = this.#streams.get(streamId);
    return state === undefined ? !isLocallyInitiated(streamId, this.role) : state.kind === 'pending';
  }

  /** Whether bytes on this stream now belong to a WebTransport stream, past the HTTP/3 layer. */
  isWebTransportStream(streamId: number): boolean {
    return this.#streams.get(streamId)?.kind === 'webtransport';
  }

  /** Client: sends request HEADERS on a new bidirectional stream and returns its id. */
  openRequest(fields: readonly FieldLine[]): number {
    const streamId = this.#ids.next(true);
    this.#streams.set(streamId, new RequestStream(streamId, this.role, this.#limits, isWebTransportConnect(fields)));
    this.sendHeaders(streamId, fields, false);
    return streamId;
  }

  sendHeaders(streamId: number, fields: readonly FieldLine[], fin: boolean): void {
    this.#write(streamId, encodeFrame(FRAME.HEADERS, encodeFieldSection(fields)), fin);
  }

  /** Marks a request stream as an established WebTransport session: datagrams for it are now delivered. */
  establishSession(streamId: number): void {
    const state = this.#streams.get(streamId);
    if (state?.kind === 'request') state.establish();
  }

  /** Sends a capsule in a DATA frame on a CONNECT stream (RFC 9297 §3.2). */
  sendCapsule(streamId: number, type: number, value: Uint8Array, fin: boolean): void {
    this.#write(streamId, encodeFrame(FRAME.DATA, concatWire([type, value.length, value])), fin);
  }

  /** Ends our side of a request stream. */
  finish(streamId: number): void {
    this.#write(streamId, EMPTY, true);
  }

  /** Allocates a WebTransport stream and returns its id and the header to write first (§4.1, §4.2). */
  openWebTransportStream(sessionId: number, bidirectional: boolean): { streamId: number; header: Uint8Array } {
    const streamId = this.#ids.next(bidirectional);
    this.#streams.set(streamId, { kind: 'webtransport', sessionId, bidirectional });
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
    if (session?.kind !== 'request' || !session.established) return []; // unknown or closed session: drop
    return [{ type: 'datagram', sessionId, payload: bytes.subarray(quarter.next) }];
  }

  receiveStreamReset(streamId: number, code: number): H3Event[] {
    const state = this.#streams.get(streamId);
    switch (state?.kind) {
      case 'control':
      case 'qpack-encoder':
      case 'qpack-decoder':
        // RFC 9114 §6.2.1, RFC 9204 §4.2: critical streams never close.
        throw new H3Error('H3_CLOSED_CRITICAL_STREAM', `critical stream ${streamId} was reset`);
      case 'request':
        return [{ type: 'request-reset', streamId, code }];
      default:
        return [];
    }
  }

  /** Feeds bytes the peer sent on `streamId` (and whether they end it). */
  receiveStreamData(streamId: number, data: Uint8Array, fin: boolean): H3Event[] {
    const events: H3Event[] = [];
    let state = this.#streams.get(streamId);
    if (state === undefined) {
      if (isLocallyInitiated(streamId, this.role)) return events; // a stream we already forgot
      state = { kind: 'pending', prefix: EMPTY };
      this.#streams.set(streamId, state);
    }
    try {
      this.#receive(streamId, state, data, fin, events);
    } catch (error) {
      if (!(error instanceof H3Error) || error.scope !== 'stream') throw error;
      this.#actions.push({ type: 'reset', streamId, code: error.wireCode });
      this.#streams.set(streamId, IGNORED);
    }
    return events;
  }

  #receive(streamId: number, state: StreamState, data: Uint8Array, fin: boolean, events: H3Event[]): void {
    switch (state.kind) {
      case 'pending':
        if (isBidirectional(streamId)) this.#classifyBidi(streamId, state, data, fin, events);
        else this.#classifyUni(streamId, state, data, fin, events);
        return;
      case 'control':
      case 'request':
        state.receive(data, fin, events);
        return;
      case 'qpack-encoder':
      case 'qpack-decoder':
        state.receive(data, fin);
        return;
      case 'webtransport': // the edge routes WebTransport bytes past this layer
      case 'ignored':
        return;
    }
  }

  #write(streamId: number, data: Uint8Array, fin: boolean): void {
    this.#actions.push({ type: 'write', streamId, data, fin });
  }

  /** Joins stream-header bytes received so far with new ones. */
  #withPrefix(state: PendingStream, data: Uint8Array): Uint8Array {
    if (state.prefix.length === 0) return data;
    const joined = new Uint8Array(state.prefix.length + data.length);
    joined.set(state.prefix);
    joined.set(data, state.prefix.length);
    state.prefix = EMPTY;
    return joined;
  }

  #classifyUni(streamId: number, state: PendingStream, data: Uint8Array, fin: boolean, events: H3Event[]): void {
    const bytes = this.#withPrefix(state, data);
    const type = readVarintLossy(bytes, 0);
    if (type === undefined) {
      state.prefix = bytes;
      return; // RFC 9114 §6.2: a stream that ends before its type is simply ignored
    }
    const rest = bytes.subarray(type.next);
    switch (type.value) {
      case UNI_STREAM.CONTROL: {
        if (this.#peerControl !== undefined) throw new H3Error('H3_STREAM_CREATION_ERROR', 'second control stream');
        const control = new PeerControlStream(this.role, this.#limits.maxFrameBytes);
        this.#peerControl = control;
        this.#streams.set(streamId, control);
        control.receive(rest, fin, events);
        return;
      }
      case UNI_STREAM.QPACK_ENCODER: {
        if (this.#peerEncoderStream !== undefined) {
          throw new H3Error('H3_STREAM_CREATION_ERROR', 'second encoder stream');
        }
        this.#peerEncoderStream = streamId;
        const encoder = new EncoderInstructionStream();
        this.#streams.set(streamId, encoder);
        encoder.receive(rest, fin);
        return;
      }
      case UNI_STREAM.QPACK_DECODER: {
        if (this.#peerDecoderStream !== undefined) {
          throw new H3Error('H3_STREAM_CREATION_ERROR', 'second decoder stream');
        }
        this.#peerDecoderStream = streamId;
        const decoder = new DecoderInstructionStream();
        this.#streams.set(streamId, decoder);
        decoder.receive(rest, fin);
        return;
      }
      case UNI_STREAM.PUSH:
        // §6.2.2: only servers push, and only after MAX_PUSH_ID, which this endpoint never sends.
        if (this.role === 'server') throw new H3Error('H3_STREAM_CREATION_ERROR', 'client opened a push stream');
        throw new H3Error('H3_ID_ERROR', 'push stream without MAX_PUSH_ID');
      case UNI_STREAM.WEBTRANSPORT:
        this.#classifyWebTransport(streamId, state, rest, fin, false, events);
        return;
      default:
        // §6.2.3: unknown (and GREASE) stream types are ignored; ask the peer to stop sending.
        this.#streams.set(streamId, IGNORED);
        this.#actions.push({ type: 'reset', streamId, code: H3_ERROR.H3_STREAM_CREATION_ERROR });
    }
  }

  #classifyBidi(streamId: number, state: PendingStream, data: Uint8Array, fin: boolean, events: H3Event[]): void {
    const bytes = this.#withPrefix(state, data);
    const signal = readVarintLossy(bytes, 0);
    if (signal === undefined) {
      state.prefix = bytes;
      if (fin) this.#streams.set(streamId, IGNORED);
      return;
    }
    if (signal.value === FRAME.WEBTRANSPORT_STREAM) {
      this.#classifyWebTransport(streamId, state, bytes.subarray(signal.next), fin, true, events);
      return;
    }
    // RFC 9114 §6.1: clients never receive server-initiated bidirectional request streams.
    if (this.role === 'client') throw new H3Error('H3_STREAM_CREATION_ERROR', 'server opened a request stream');
    const request = new RequestStream(streamId, this.role, this.#limits);
    this.#streams.set(streamId, request);
    request.receive(bytes, fin, events);
  }

  #classifyWebTransport(
    streamId: number,
    state: PendingStream,
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
      if (fin) this.#streams.set(streamId, IGNORED);
      return;
    }
    // The session id must name a client-initiated bidirectional stream (§4.1, §4.2).
    if (!isBidirectional(session.value) || !isLocallyInitiated(session.value, 'client')) {
      throw new H3Error('H3_ID_ERROR', `invalid WebTransport session id ${session.value}`);
    }
    this.#streams.set(streamId, { kind: 'webtransport', sessionId: session.value, bidirectional });
    events.push({
      type: 'webtransport-stream',
      sessionId: session.value,
      streamId,
      bidirectional,
      data: bytes.subarray(session.next),
      fin,
    });
  }
}
