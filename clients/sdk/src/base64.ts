/**
 * Base64 for binary fields inside the JSON profile state (browser-safe: no
 * Buffer). Table-driven: the profile holds hundreds of kilobytes of keys and is
 * saved after every message, so `btoa` over a built-up binary string is too slow.
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/** Every 12-bit value as its two base64 characters. */
const PAIRS: string[] = Array.from({ length: 4096 }, (_, v) => ALPHABET[v >> 6]! + ALPHABET[v & 63]!);
const CHUNK = 3 * 4096;

export function toBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  let chunk: string[] = [];
  const whole = bytes.length - (bytes.length % 3);
  for (let i = 0; i < whole; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    chunk.push(PAIRS[v >> 12]! + PAIRS[v & 0xfff]!);
    if (chunk.length === CHUNK / 3) {
      parts.push(chunk.join(''));
      chunk = [];
    }
  }
  parts.push(chunk.join(''));
  const rest = bytes.length - whole;
  if (rest === 1) {
    const v = bytes[whole]! << 4;
    parts.push(`${PAIRS[v]!}==`);
  } else if (rest === 2) {
    const v = (bytes[whole]! << 10) | (bytes[whole + 1]! << 2);
    parts.push(`${PAIRS[v >> 6]!}${ALPHABET[v & 63]!}=`);
  }
  return parts.join('');
}

export function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
