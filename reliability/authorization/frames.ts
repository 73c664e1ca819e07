import { generatePqPreKey, generateSignedPreKey, type IdentityKeyPair } from '@pulse/crypto';
import {
  authSignedMessage,
  deviceListSignedMessage,
  type Frame,
  type FrameOf,
  linkRequestSignedMessage,
  registerSignedMessage,
} from '@pulse/proto';

/** Valid frames the matrix sends (each well formed and correctly signed: a refusal is about who sends it). */

export function registerFrame(
  challenge: Uint8Array,
  account: string,
  identity: IdentityKeyPair,
  accountIdentity: IdentityKeyPair,
): Frame {
  const devices = [{ deviceId: 1, identityKey: identity.publicKey, name: 'first', addedAt: 1 }];
  return {
    type: 'register',
    id: 0,
    account,
    deviceName: 'first',
    identityKey: identity.publicKey,
    signature: identity.sign(registerSignedMessage(challenge, account, identity.publicKey)),
    accountKey: accountIdentity.publicKey,
    deviceList: {
      version: 1,
      devices,
      signature: accountIdentity.sign(deviceListSignedMessage({ account, version: 1, devices })),
    },
  };
}

export function authFrame(challenge: Uint8Array, account: string, deviceId: number, signer: IdentityKeyPair): Frame {
  return {
    type: 'auth',
    id: 0,
    account,
    deviceId,
    signature: signer.sign(authSignedMessage(challenge, account, deviceId)),
  };
}

export function linkRequestFrame(
  challenge: Uint8Array,
  account: string,
  identity: IdentityKeyPair,
): FrameOf<'link_request'> {
  return {
    type: 'link_request',
    id: 0,
    account,
    deviceName: 'new',
    identityKey: identity.publicKey,
    signedPreKey: generateSignedPreKey(identity, 1).toPublic(),
    pqPreKey: generatePqPreKey(identity, 2, { lastResort: true }).toPublic(),
    mac: new Uint8Array(32),
    signature: identity.sign(linkRequestSignedMessage(challenge, account, identity.publicKey)),
  };
}

/** A copy of `token` with `from` (an account name inside it) overwritten by `to` of the same length. */
export function retargetToken(token: Uint8Array, from: string, to: string): Uint8Array {
  const source = new TextEncoder().encode(from);
  const target = new TextEncoder().encode(to);
  if (source.length !== target.length) throw new RangeError('account names of equal length only');
  const copy = new Uint8Array(token);
  for (let i = 0; i + source.length <= copy.length; i++) {
    if (source.every((byte, j) => copy[i + j] === byte)) {
      copy.set(target, i);
      return copy;
    }
  }
  throw new Error(`the token does not name ${from}`);
}
