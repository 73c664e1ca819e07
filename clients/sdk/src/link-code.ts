import { canonicalLinkCode, linkCodeFromRandom, linkCodeMacMessage } from '@pulse/proto';
import { PulseError } from './errors.ts';

/**
 * The link code's two MACs (PROTOCOL.md "Linking"). The new device shows the
 * code; the user types it into a device of the account. Only the two devices
 * know it, so:
 * - the request MAC (on the wire, in `link_request`) lets the approving device
 *   pick the request made by the device the user is holding, and no key a
 *   server swapped in;
 * - the approval MAC (inside the encrypted provisioning message) lets the new
 *   device know that the account identity it receives comes from a device the
 *   user typed the code into, not from a server that made up an account.
 * HMAC-SHA256 through WebCrypto (browsers, Node 20).
 */

const encoder = new TextEncoder();
const APPROVAL_CONTEXT = 'pulse/v2/link-approval';

/** A fresh code in its display form (`7K3QF-M2XWD`). */
export function newLinkCode(): string {
  return linkCodeFromRandom(globalThis.crypto.getRandomValues(new Uint8Array(10)));
}

/** The MAC `link_request` carries. */
export async function requestMac(
  code: string,
  account: string,
  deviceName: string,
  identityKey: Uint8Array,
): Promise<Uint8Array> {
  return hmac(code, linkCodeMacMessage(account, deviceName, identityKey));
}

/** True when `mac` is the request MAC under the code the user typed (compared in constant time by WebCrypto). */
export async function requestMacMatches(
  typedCode: string,
  request: { account: string; deviceName: string; identityKey: Uint8Array; mac: Uint8Array },
): Promise<boolean> {
  return verifyHmac(
    typedCode,
    linkCodeMacMessage(request.account, request.deviceName, request.identityKey),
    request.mac,
  );
}

/** The approving device's proof, inside the provisioning message, that it knows the code. */
export async function approvalMac(code: string, account: string, accountKey: Uint8Array): Promise<Uint8Array> {
  return hmac(code, approvalMessage(account, accountKey));
}

export async function approvalMacMatches(
  code: string,
  account: string,
  accountKey: Uint8Array,
  mac: Uint8Array,
): Promise<boolean> {
  return verifyHmac(code, approvalMessage(account, accountKey), mac);
}

function approvalMessage(account: string, accountKey: Uint8Array): Uint8Array {
  const context = encoder.encode(APPROVAL_CONTEXT);
  const name = encoder.encode(account);
  const out = new Uint8Array(context.length + 2 + name.length + accountKey.length);
  out.set(context);
  out[context.length + 1] = name.length;
  out.set(name, context.length + 2);
  out.set(accountKey, context.length + 2 + name.length);
  return out;
}

async function keyOf(code: string): Promise<CryptoKey> {
  const canonical = canonicalLinkCode(code);
  if (canonical === undefined) throw new PulseError('BAD_INPUT', `${code} is not a link code (10 letters and digits)`);
  return globalThis.crypto.subtle.importKey(
    'raw',
    encoder.encode(canonical),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign', 'verify'],
  );
}

async function hmac(code: string, message: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await globalThis.crypto.subtle.sign('HMAC', await keyOf(code), message as BufferSource));
}

async function verifyHmac(code: string, message: Uint8Array, mac: Uint8Array): Promise<boolean> {
  return globalThis.crypto.subtle.verify('HMAC', await keyOf(code), mac as BufferSource, message as BufferSource);
}
