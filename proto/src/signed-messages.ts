/**
 * The exact bytes a device signs (XEdDSA with its identity key) to prove key
 * possession to the server (PROTOCOL.md "Authentication"). Each message starts
 * with its own context string and binds the connection's fresh `welcome.challenge`
 * and the account, so a signature made for one purpose, connection, account or
 * device is worthless anywhere else.
 *
 *   context (ASCII) || 0x00 || challenge (32) || len(account) (1) || account (UTF-8) || tail
 *
 * tail: register and link_request: the device's identity key; auth and
 * prekeys_upload: the device id as a 4-byte big-endian integer.
 */
export const SIGNING_CONTEXTS = {
  register: 'pulse/v1/register',
  auth: 'pulse/v1/auth',
  linkRequest: 'pulse/v2/link-request',
  prekeysUpload: 'pulse/v1/prekeys-upload',
} as const;

function signedMessage(context: string, challenge: Uint8Array, account: string, tail: Uint8Array): Uint8Array {
  const encoder = new TextEncoder();
  const contextBytes = encoder.encode(context);
  const accountBytes = encoder.encode(account);
  if (challenge.length !== 32) throw new RangeError('the challenge is 32 bytes');
  if (accountBytes.length > 255) throw new RangeError('account name too long');
  const out = new Uint8Array(contextBytes.length + 1 + 32 + 1 + accountBytes.length + tail.length);
  let at = 0;
  out.set(contextBytes, at);
  at += contextBytes.length + 1; // the 0x00 separator is already zero
  out.set(challenge, at);
  at += 32;
  out[at++] = accountBytes.length;
  out.set(accountBytes, at);
  at += accountBytes.length;
  out.set(tail, at);
  return out;
}

/** Signed by the first device's identity key in `register`. */
export function registerSignedMessage(challenge: Uint8Array, account: string, identityKey: Uint8Array): Uint8Array {
  return signedMessage(SIGNING_CONTEXTS.register, challenge, account, identityKey);
}

/** Signed by a device's identity key in `auth`. */
export function authSignedMessage(challenge: Uint8Array, account: string, deviceId: number): Uint8Array {
  const tail = new Uint8Array(4);
  new DataView(tail.buffer).setUint32(0, deviceId);
  return signedMessage(SIGNING_CONTEXTS.auth, challenge, account, tail);
}

/**
 * Signed by the NEW device's identity key in `link_request`, over its own
 * connection's challenge: it holds the key it asks to link. (That alone links
 * nothing: a device of the account must approve, PROTOCOL.md "Linking".)
 */
export function linkRequestSignedMessage(challenge: Uint8Array, account: string, identityKey: Uint8Array): Uint8Array {
  return signedMessage(SIGNING_CONTEXTS.linkRequest, challenge, account, identityKey);
}

/**
 * Signed by the uploading device's identity key in `prekeys_upload.proof`, over
 * the challenge of the connection it uploads on: a captured upload replayed on
 * another connection (another challenge) is refused (PROTOCOL.md "Prekeys").
 */
export function prekeysUploadSignedMessage(challenge: Uint8Array, account: string, deviceId: number): Uint8Array {
  const tail = new Uint8Array(4);
  new DataView(tail.buffer).setUint32(0, deviceId);
  return signedMessage(SIGNING_CONTEXTS.prekeysUpload, challenge, account, tail);
}
