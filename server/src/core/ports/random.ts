/** Cryptographically secure random bytes (edge: node:crypto), passed in. */
export interface RandomSource {
  bytes(length: number): Uint8Array;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** `length` random bytes as lowercase hex (channel epochs, per-connection keys). */
export function randomHex(random: RandomSource, length: number): string {
  let text = '';
  for (const byte of random.bytes(length)) text += HEX[byte]!;
  return text;
}
