/**
 * The link code (PROTOCOL.md "Linking"): a short secret the NEW device shows and
 * the user types into an existing device of the account. The new device sends
 * `mac = HMAC-SHA256(key = code, message)` in `link_request`; the server relays
 * it without knowing the code, and the approving device accepts only a request
 * whose MAC verifies under the code the user typed. So a server that swaps in a
 * key of its own would have to guess the code while the user is typing it.
 *
 *   message = "pulse/v2/link-code" || 0x00 || len(account) (1) || account (UTF-8)
 *             || len(deviceName) (2, BE) || deviceName (UTF-8) || identityKey
 *
 * The code is LINK_CODE_LENGTH characters of Crockford's base32 (50 bits),
 * shown as two groups of five (`7K3QF-M2XWD`); the key is its canonical form
 * (upper case, no separator) as ASCII.
 */
export const LINK_CODE_CONTEXT = 'pulse/v2/link-code';
export const LINK_CODE_LENGTH = 10;
/** Crockford's base32: no I, L, O, U (read as 1, 1, 0 and refused). */
export const LINK_CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

const encoder = new TextEncoder();

/** The bytes the link code's MAC covers. */
export function linkCodeMacMessage(account: string, deviceName: string, identityKey: Uint8Array): Uint8Array {
  const context = encoder.encode(LINK_CODE_CONTEXT);
  const accountBytes = encoder.encode(account);
  const name = encoder.encode(deviceName);
  if (accountBytes.length > 255) throw new RangeError('account name too long');
  if (name.length > 0xffff) throw new RangeError('device name too long');
  const out = new Uint8Array(context.length + 2 + accountBytes.length + 2 + name.length + identityKey.length);
  let at = 0;
  out.set(context, at);
  at += context.length + 1;
  out[at++] = accountBytes.length;
  out.set(accountBytes, at);
  at += accountBytes.length;
  out[at++] = name.length >>> 8;
  out[at++] = name.length & 0xff;
  out.set(name, at);
  at += name.length;
  out.set(identityKey, at);
  return out;
}

/**
 * The canonical form of a code as a user typed it (any case, dashes and spaces
 * ignored, I/L read as 1 and O as 0), or undefined when it is not a code.
 */
export function canonicalLinkCode(typed: string): string | undefined {
  const code = typed.toUpperCase().replace(/[\s-]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
  if (code.length !== LINK_CODE_LENGTH) return undefined;
  return [...code].every((c) => LINK_CODE_ALPHABET.includes(c)) ? code : undefined;
}

/** A code from LINK_CODE_LENGTH random bytes (5 bits of each), in its display form. */
export function linkCodeFromRandom(random: Uint8Array): string {
  if (random.length < LINK_CODE_LENGTH) throw new RangeError(`${LINK_CODE_LENGTH} random bytes needed`);
  const code = Array.from(random.subarray(0, LINK_CODE_LENGTH), (b) => LINK_CODE_ALPHABET[b & 31]).join('');
  return `${code.slice(0, 5)}-${code.slice(5)}`;
}
