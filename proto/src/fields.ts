import * as v from 'valibot';
import type { ProtoLimits } from './limits.ts';

/**
 * Field schemas shared by the frame definitions. Each takes its bounds from the
 * configured ProtoLimits, so a frame can never carry more than the limits allow.
 */
export function fieldSchemas(limits: ProtoLimits) {
  const uint = v.pipe(v.number(), v.safeInteger(), v.minValue(0));
  const uint32 = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(0xffff_ffff));
  const text = v.pipe(v.string(), v.maxLength(limits.maxStringLength));

  // Decoders may hand back a Buffer (Node) or a view; callers always get a plain Uint8Array.
  const plainBytes = v.transform((b: Uint8Array) =>
    b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
  );
  const anyBytes = v.custom<Uint8Array>((input) => input instanceof Uint8Array, 'bytes');
  const bytesUpTo = (max: number) => v.pipe(anyBytes, v.maxLength(max), plainBytes);
  const bytesExactly = (length: number) => v.pipe(anyBytes, v.length(length), plainBytes);

  const listOf = <T extends v.GenericSchema>(item: T) => v.pipe(v.array(item), v.maxLength(limits.maxArrayLength));

  /** Account names: lower-case letters, digits, `.`, `_`, `-`; 3 to 32 characters. */
  const accountName = v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9._-]{2,31}$/, 'an account name'));
  /** Channel names: segments of letters, digits and `_-.:@` separated by `/`; at most 128 characters. */
  const channelName = v.pipe(
    v.string(),
    v.regex(/^[A-Za-z0-9_.:@-]+(\/[A-Za-z0-9_.:@-]+)*$/, 'a channel name'),
    v.maxLength(128),
  );
  /** Stable error codes: upper-case words joined by underscores. */
  const errorCode = v.pipe(v.string(), v.regex(/^[A-Z][A-Z0-9_]{0,63}$/, 'an error code'));

  return {
    uint,
    uint32,
    text,
    bytesUpTo,
    bytesExactly,
    listOf,
    accountName,
    channelName,
    errorCode,
    /** A request id the client picks; the server echoes it on the response. */
    requestId: uint32,
    /** Milliseconds since the Unix epoch. */
    timestamp: uint,
    /** A serialized public key: 33 bytes for Curve25519 (0x05 prefix), up to 1569 for ML-KEM-1024. */
    publicKey: bytesUpTo(2048),
    signature: bytesExactly(64),
    payload: bytesUpTo(limits.maxPayloadBytes),
    deviceId: v.pipe(uint32, v.minValue(1)),
    envelopeId: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,64}$/, 'an envelope id')),
    /** A pending link, named by the server. */
    linkId: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,64}$/, 'a link id')),
  };
}

export type FieldSchemas = ReturnType<typeof fieldSchemas>;
