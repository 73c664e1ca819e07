import { type Options, Packr } from 'msgpackr';
import * as v from 'valibot';
import { ProtoError } from './errors.ts';
import { FRAME_TYPES, type Frame, frameSchema } from './frames.ts';
import { DEFAULT_PROTO_LIMITS, type ProtoLimits } from './limits.ts';
import { guardMessagePack } from './msgpack-guard.ts';

/**
 * Encodes frames to MessagePack and decodes bytes back into validated frames.
 *
 * Decoding runs three gates in order, each failing with a ProtoError: the size
 * limit, a structural scan of the MessagePack bytes (guardMessagePack), and the
 * frame schema. Nothing decoded is trusted until the schema has accepted it.
 */
export class FrameCodec {
  readonly limits: ProtoLimits;
  readonly #packr: Packr;

  constructor(limits: ProtoLimits = DEFAULT_PROTO_LIMITS) {
    this.limits = limits;
    // `skipValues` is a msgpackr option its type definitions do not list yet.
    const options: Options & { skipValues: unknown[] } = {
      // Plain MessagePack: no msgpackr records or extensions, so any MessagePack
      // implementation can speak Pulse.
      useRecords: false,
      moreTypes: false,
      mapsAsObjects: true,
      // Absent optional fields are left out rather than encoded as an extension.
      skipValues: [undefined],
      // Byte fields are copied out of the input, so a frame never pins (or sees
      // later changes to) the transport's receive buffer.
      copyBuffers: true,
      int64AsType: 'number',
    };
    this.#packr = new Packr(options);
  }

  /** Encodes a frame. Throws PROTO_FRAME_TOO_LARGE rather than emit what no peer accepts. */
  encode(frame: Frame): Uint8Array {
    const bytes: Uint8Array = this.#packr.pack(frame);
    if (bytes.length > this.limits.maxFrameBytes) {
      throw new ProtoError(
        'PROTO_FRAME_TOO_LARGE',
        `frame of ${bytes.length} bytes exceeds ${this.limits.maxFrameBytes}`,
      );
    }
    // Packr reuses one output buffer; the returned view is only valid until the next call.
    return bytes.slice();
  }

  /** Decodes and validates one frame; anything else is a ProtoError. */
  decode(bytes: Uint8Array): Frame {
    if (bytes.length > this.limits.maxFrameBytes) {
      throw new ProtoError(
        'PROTO_FRAME_TOO_LARGE',
        `frame of ${bytes.length} bytes exceeds ${this.limits.maxFrameBytes}`,
      );
    }
    guardMessagePack(bytes, this.limits);
    let value: unknown;
    try {
      value = this.#packr.unpack(bytes);
    } catch (cause) {
      // The guard accepts only what the decoder can read; keep the net anyway.
      throw new ProtoError('PROTO_MALFORMED', `MessagePack decoding failed: ${(cause as Error).message}`);
    }
    return this.validate(value);
  }

  /** Validates an already-decoded value into a typed frame. */
  validate(value: unknown): Frame {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ProtoError('PROTO_UNKNOWN_TYPE', 'a frame must be a map with a string `type`');
    }
    const type = (value as { type?: unknown }).type;
    if (typeof type !== 'string' || !(FRAME_TYPES as readonly string[]).includes(type)) {
      throw new ProtoError('PROTO_UNKNOWN_TYPE', `unknown frame type ${JSON.stringify(type)?.slice(0, 40)}`);
    }
    const result = v.safeParse(frameSchema(this.limits), value, { abortEarly: true });
    if (result.success) return result.output;
    const issue = result.issues[0];
    const path = v.getDotPath(issue) ?? '';
    const id = (value as { id?: unknown }).id;
    const requestId = typeof id === 'number' && Number.isInteger(id) && id >= 0 && id <= 0xffff_ffff ? id : undefined;
    throw new ProtoError(
      'PROTO_BAD_FIELD',
      `invalid ${type} frame: expected ${issue.expected ?? 'a valid value'}`,
      path,
      requestId,
    );
  }
}
