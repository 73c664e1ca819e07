/**
 * Test support (unit tests, fuzzers, the benchmark): never imported by the package's modules.
 */
import type { IdentityKeyPair } from '../keys/identity.ts';
import { generateIdentityKeyPair } from '../keys/identity.ts';
import { generateOneTimePreKeys, generatePqPreKey, generateSignedPreKey, type PreKeyBundle } from '../keys/prekeys.ts';
import { InMemoryPrekeyStore } from '../store.ts';

export interface Device {
  identity: IdentityKeyPair;
  store: InMemoryPrekeyStore;
  bundle(options?: { withOneTime?: boolean; withPq?: boolean; lastResort?: boolean }): PreKeyBundle;
}

/** A responder device with one signed prekey, a PQ last-resort key, a one-time PQ key and 5 one-time prekeys. */
export function makeDevice(): Device {
  const identity = generateIdentityKeyPair();
  const signed = generateSignedPreKey(identity, 1);
  const lastResort = generatePqPreKey(identity, 100, { lastResort: true });
  const pqOneTime = generatePqPreKey(identity, 101);
  const oneTime = generateOneTimePreKeys(10, 5);
  const store = new InMemoryPrekeyStore()
    .addSignedPreKey(signed)
    .addPqPreKey(lastResort)
    .addPqPreKey(pqOneTime)
    .addOneTimePreKeys(oneTime);
  let nextOneTime = 0;
  return {
    identity,
    store,
    bundle(options = {}) {
      const { withOneTime = true, withPq = true, lastResort: useLastResort = false } = options;
      return {
        identityKey: identity.publicKey,
        signedPreKey: signed.toPublic(),
        pqPreKey: withPq ? (useLastResort ? lastResort : pqOneTime).toPublic() : undefined,
        oneTimePreKey: withOneTime ? oneTime[nextOneTime++ % oneTime.length]!.toPublic() : undefined,
      };
    },
  };
}

export const enc = (s: string) => new TextEncoder().encode(s);
export const dec = (b: Uint8Array) => new TextDecoder().decode(b);
