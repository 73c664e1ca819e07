import { PulseError } from '../errors.ts';

/**
 * The bytes an encrypted channel publishes (README "Encrypted channels"): one
 * format byte, then the Sender Key message (@pulse/crypto: distribution id,
 * chain id, iteration, ciphertext, signature). The server stores and fans out
 * these bytes as opaque payloads; who published them is the `from` the server
 * stamps on each publication (it authenticated the device).
 */
export const ENCRYPTED_CHANNEL_FORMAT = 0xe1;

/**
 * Plaintexts are padded like envelope contents (content.ts: Signal's 0x80 then
 * zeros up to a multiple of 160 bytes), so publication sizes reveal only a coarse
 * size class.
 */
const PADDING_BLOCK = 160;

export function pad(bytes: Uint8Array): Uint8Array {
  const padded = new Uint8Array((Math.floor(bytes.length / PADDING_BLOCK) + 1) * PADDING_BLOCK);
  padded.set(bytes);
  padded[bytes.length] = 0x80;
  return padded;
}

export function unpad(bytes: Uint8Array): Uint8Array {
  let end = bytes.length - 1;
  while (end >= 0 && bytes[end] === 0) end--;
  if (end < 0 || bytes[end] !== 0x80) throw new PulseError('BAD_INPUT', 'channel plaintext is not padded');
  return bytes.slice(0, end);
}

export function sealedPayload(ciphertext: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + ciphertext.length);
  out[0] = ENCRYPTED_CHANNEL_FORMAT;
  out.set(ciphertext, 1);
  return out;
}

/** The Sender Key message inside a publication; BAD_INPUT for anything else (a plaintext publication, say). */
export function ciphertextOf(payload: Uint8Array): Uint8Array {
  if (payload.length < 2 || payload[0] !== ENCRYPTED_CHANNEL_FORMAT) {
    throw new PulseError('BAD_INPUT', 'not an encrypted channel publication');
  }
  return payload.subarray(1);
}
