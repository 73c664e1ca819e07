/**
 * Every size and count the wire protocol enforces, in one place.
 *
 * Decoders check these before they allocate or trust anything. Servers may
 * tighten or loosen them through configuration; clients use the defaults.
 */
export interface ProtoLimits {
  /** Largest encoded frame, in bytes (MessagePack body, without any length prefix). */
  readonly maxFrameBytes: number;
  /** Largest opaque payload (ciphertext) carried by one envelope or publication. */
  readonly maxPayloadBytes: number;
  /** Longest string field, in UTF-16 code units. */
  readonly maxStringLength: number;
  /** Longest array field (envelopes in one send, prekeys in one upload, ...). */
  readonly maxArrayLength: number;
  /** Deepest nesting of arrays and maps accepted inside one frame. */
  readonly maxDepth: number;
}

export const DEFAULT_PROTO_LIMITS: ProtoLimits = Object.freeze({
  maxFrameBytes: 1024 * 1024,
  maxPayloadBytes: 256 * 1024,
  maxStringLength: 1024,
  maxArrayLength: 1000,
  maxDepth: 8,
});

/** Returns limits with the given overrides applied, refusing nonsensical values. */
export function protoLimits(overrides: Partial<ProtoLimits> = {}): ProtoLimits {
  const limits = { ...DEFAULT_PROTO_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`proto limit ${name} must be a positive integer, got ${String(value)}`);
    }
  }
  if (limits.maxPayloadBytes > limits.maxFrameBytes) {
    throw new RangeError('proto limit maxPayloadBytes cannot exceed maxFrameBytes');
  }
  return Object.freeze(limits);
}
