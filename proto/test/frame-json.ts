/** JSON form of frames for the golden vectors: byte fields become {"hex": "..."}. */
export function frameToJson(value: unknown): unknown {
  if (value instanceof Uint8Array) return { hex: Buffer.from(value).toString('hex') };
  if (Array.isArray(value)) return value.map(frameToJson);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, frameToJson(inner)]));
  }
  return value;
}

export function frameFromJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(frameFromJson);
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    if (entries.length === 1 && entries[0]?.[0] === 'hex')
      return new Uint8Array(Buffer.from(String(entries[0][1]), 'hex'));
    return Object.fromEntries(entries.map(([key, inner]) => [key, frameFromJson(inner)]));
  }
  return value;
}
