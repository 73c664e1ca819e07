/**
 * @pulse/crypto — Signal's protocols (X3DH/PQXDH, Double Ratchet, XEdDSA, Sender Keys,
 * safety numbers) for every Pulse client. Browser-safe: no node: imports here.
 */
export { CryptoError, CryptoErrorCode } from './errors.ts';
export { type SenderKeyOptions, SenderKeyRecord } from './groups/sender-key.ts';
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
export {
  type CryptoPrimitives,
  defaultPrimitives,
  type PrimitivesName,
  primitivesByName,
} from './primitives/index.ts';
export { Direction, type IdentityTrustOptions, type IsTrustedIdentity } from './ratchet/identity-trust.ts';
export { isPreKeyMessage } from './ratchet/message.ts';
export type { SessionInfo } from './ratchet/session-info.ts';
// The one public way to encrypt and decrypt 1:1 messages; Session itself stays internal.
export {
  type DecryptResult,
  type SessionOperationOptions,
  SessionRecord,
  type SessionRecordOptions,
} from './ratchet/session-record.ts';
export { SAFETY_NUMBER_ITERATIONS, type SafetyNumberParty, safetyNumber } from './safety-number.ts';
// Sealed sender v1 and v2 (libsignal sealed_sender.rs): certificates, the inner content, seal and open.
export {
  ContentHint,
  type SealedContentFields,
  type SealedContentType,
  UnidentifiedSenderMessageContent,
} from './sealed-sender/content.ts';
export {
  type IsExpectedSender,
  type OpenedSealedMessage,
  type OpenSealedOptions,
  sealedSenderDecrypt,
} from './sealed-sender/open.ts';
export {
  type CertificateValidation,
  type CertifiedSender,
  MAX_CERTIFICATE_ACCOUNT_BYTES,
  SenderCertificate,
  type SenderCertificateFields,
} from './sealed-sender/sender-certificate.ts';
export {
  type CertificateSigner,
  REVOKED_SERVER_KEY_IDS,
  ServerCertificate,
} from './sealed-sender/server-certificate.ts';
export { sealedSenderDecryptToContent, type UnsealOptions } from './sealed-sender/unseal.ts';
export { SEALED_SENDER_V1_VERSION_BYTE, type SealOptions, sealedSenderEncrypt } from './sealed-sender/v1.ts';
export {
  type MultiRecipientSealed,
  type MultiRecipientSealOptions,
  RECIPIENT_KEY_LENGTH,
  SEALED_SENDER_V2_VERSION_BYTE,
  sealedSenderMultiRecipientEncrypt,
  sealedSenderMultiRecipientMessage,
} from './sealed-sender/v2.ts';
export { DEFAULT_VERIFIED_CERTIFICATES, VerifiedCertificates } from './sealed-sender/verified-certificates.ts';
export {
  deserializePreKeyUse,
  InMemoryPrekeyStore,
  type PreKeyUse,
  type PrekeyStore,
  serializePreKeyUse,
} from './store.ts';
export type { AgreementOptions } from './x3dh.ts';
export { SIGNATURE_LENGTH } from './xeddsa.ts';
