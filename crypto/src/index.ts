/**
 * @pulse/crypto — Signal's protocols (X3DH/PQXDH, Double Ratchet, XEdDSA, Sender Keys,
 * safety numbers) for every Pulse client. Browser-safe: no node: imports here.
 */
export { CryptoError, CryptoErrorCode } from './errors.ts';
export { SenderKeyRecord } from './groups/sender-key.ts';
export {
  DJB_KEY_TYPE,
  deserializePublicKey,
  isLowOrderPoint,
  SERIALIZED_PUBLIC_KEY_LENGTH,
  serializePublicKey,
} from './keys/curve.ts';
export { generateIdentityKeyPair, IdentityKeyPair, xeddsaSign, xeddsaVerify } from './keys/identity.ts';
export { KEM_KEY_TYPE_ML_KEM_1024, SERIALIZED_KEM_PUBLIC_KEY_LENGTH } from './keys/kem.ts';
export {
  generateOneTimePreKeys,
  generatePqPreKey,
  generateSignedPreKey,
  OneTimePreKey,
  PqPreKey,
  type PreKeyBundle,
  type PublicPreKey,
  SignedPreKey,
  type SignedPublicPreKey,
} from './keys/prekeys.ts';
export { type CryptoLimits, DEFAULT_CRYPTO_LIMITS } from './limits.ts';
// Only the choice of platform path is public; raw DH and AEAD stay internal (misuse resistance).
export { type PrimitivesName, primitivesInUse, usePrimitives } from './primitives/index.ts';
export { isPreKeyMessage } from './ratchet/message.ts';
export {
  type ReceiveOptions,
  receiveSessionMessage,
  Session,
  type SessionOptions,
} from './ratchet/session.ts';
export { SessionRecord } from './ratchet/session-record.ts';
export { SAFETY_NUMBER_ITERATIONS, type SafetyNumberParty, safetyNumber } from './safety-number.ts';
export { InMemoryPrekeyStore, type PrekeyStore } from './store.ts';
export { SIGNATURE_LENGTH } from './xeddsa.ts';
