/**
 * @pulse/crypto — Signal's protocols (X3DH/PQXDH, Double Ratchet, XEdDSA, Sender Keys,
 * safety numbers) for every Pulse client. Browser-safe: no node: imports here.
 */
export { CryptoError, CryptoErrorCode } from './errors.ts';
export {
  DJB_KEY_TYPE,
  deserializePublicKey,
  isLowOrderPoint,
  SERIALIZED_PUBLIC_KEY_LENGTH,
  serializePublicKey,
} from './keys/curve.ts';
export { generateIdentityKeyPair, IdentityKeyPair, xeddsaSign, xeddsaVerify } from './keys/identity.ts';
export { SIGNATURE_LENGTH } from './xeddsa.ts';
