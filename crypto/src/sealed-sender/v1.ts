/**
 * Sealed sender v1 (libsignal sealed_sender.rs sealed_sender_encrypt_from_usmc and the V1 arm of
 * sealed_sender_decrypt_to_usmc; https://signal.org/blog/sealed-sender/):
 *
 *   e = fresh X25519 pair
 *   chain ‖ eCipher ‖ eMac = HKDF-SHA-256(salt = "UnidentifiedDelivery" ‖ IK_R ‖ E, IKM = DH(e, IK_R), info = "")[0..96]
 *   encryptedStatic  = AES-256-CTR(eCipher, IK_S) ‖ HMAC(eMac, ·)[0..10]
 *   _ ‖ sCipher ‖ sMac = HKDF-SHA-256(salt = chain ‖ encryptedStatic, IKM = DH(ik_S, IK_R), info = "")[0..96]
 *   encryptedMessage = AES-256-CTR(sCipher, content) ‖ HMAC(sMac, ·)[0..10]
 *   wire = 0x11 ‖ UnidentifiedSenderMessage { ephemeralPublic = 1: E, encryptedStatic = 2, encryptedMessage = 3 }
 *
 * Keys are 33-byte serializations (0x05 ‖ u). The recipient learns the sender's identity key
 * from the first layer, and the second layer's keys depend on the sender's private identity
 * key, so only that key's holder could have sealed the content; the certificate inside must
 * name the same key.
 */
import { concatBytes, constantTimeEqual, expectBytes, utf8 } from '../bytes.ts';
import { dh } from '../dh.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { deserializePublicKey, serializePublicKey } from '../keys/curve.ts';
import { type IdentityKeyPair, identityKeyBytes } from '../keys/identity.ts';
import {
  type CryptoPrimitives,
  type Primitives,
  resolvePrimitives,
  type X25519KeyPairBytes,
} from '../primitives/index.ts';
import { UnidentifiedSenderMessageContent } from './content.ts';
import { ctrHmacDecrypt, ctrHmacEncrypt } from './ctr-hmac.ts';
import { ProtoFields, ProtoWriter } from './protobuf.ts';

/** The version byte is (required version << 4) | current version; v1 writes 0x11. */
export const SEALED_SENDER_V1_VERSION_BYTE = 0x11;
export const SEALED_SENDER_V1 = 1;
/** libsignal sealed_sender_v1 SALT_PREFIX. */
const SALT_PREFIX = utf8('UnidentifiedDelivery');
const NO_INFO = new Uint8Array(0);
const KDF_LENGTH = 96;

export interface SealOptions {
  /** The sender's identity; the content's certificate must name its public key. */
  readonly sender: IdentityKeyPair;
  /** The recipient device's identity key, 33 bytes. */
  readonly recipientIdentityKey: Uint8Array;
  readonly primitives?: CryptoPrimitives | undefined;
}

/** libsignal sealed_sender_v1::EphemeralKeys::calculate. */
async function ephemeralKeys(
  p: Primitives,
  own: X25519KeyPairBytes,
  theirPublic: Uint8Array,
  recipientKey: Uint8Array,
  ephemeralKey: Uint8Array,
): Promise<{ chainKey: Uint8Array; cipherKey: Uint8Array; macKey: Uint8Array }> {
  const salt = concatBytes(SALT_PREFIX, recipientKey, ephemeralKey);
  const out = await p.hkdfSha256(await dh(p, own, theirPublic), salt, NO_INFO, KDF_LENGTH);
  return { chainKey: out.subarray(0, 32), cipherKey: out.subarray(32, 64), macKey: out.subarray(64, 96) };
}

/** libsignal sealed_sender_v1::StaticKeys::calculate: 96 bytes derived, the first 32 unused. */
async function staticKeys(
  p: Primitives,
  own: X25519KeyPairBytes,
  theirPublic: Uint8Array,
  chainKey: Uint8Array,
  encryptedStatic: Uint8Array,
): Promise<{ cipherKey: Uint8Array; macKey: Uint8Array }> {
  const salt = concatBytes(chainKey, encryptedStatic);
  const out = await p.hkdfSha256(await dh(p, own, theirPublic), salt, NO_INFO, KDF_LENGTH);
  return { cipherKey: out.subarray(32, 64), macKey: out.subarray(64, 96) };
}

/**
 * Seals `content` to one recipient device (sealed sender v1). The server that carries the
 * result learns the recipient it is addressed to, and nothing of the sender.
 */
export async function sealedSenderEncrypt(
  content: UnidentifiedSenderMessageContent,
  options: SealOptions,
): Promise<Uint8Array> {
  if (!(content instanceof UnidentifiedSenderMessageContent)) {
    throw new CryptoError(CryptoErrorCode.InvalidArgument, 'content must be an UnidentifiedSenderMessageContent');
  }
  const p = resolvePrimitives(options.primitives);
  const senderKey = options.sender.publicKey;
  // The recipient refuses a certificate naming another key than the sealing one: refuse here first.
  if (!constantTimeEqual(senderKey, content.senderCertificate.identityKey)) {
    throw new CryptoError(CryptoErrorCode.InvalidArgument, "the certificate does not name the sender's identity key");
  }
  const recipientKey = expectBytes(options.recipientIdentityKey, undefined, 'recipient identity key');
  const recipientPublic = deserializePublicKey(recipientKey);
  const ephemeral = await p.generateX25519();
  const ephemeralKey = serializePublicKey(ephemeral.publicKey);
  const eph = await ephemeralKeys(p, ephemeral, recipientPublic, recipientKey, ephemeralKey);
  const encryptedStatic = await ctrHmacEncrypt(p, eph.cipherKey, eph.macKey, senderKey);
  const keys = await staticKeys(p, identityKeyBytes(options.sender), recipientPublic, eph.chainKey, encryptedStatic);
  const encryptedMessage = await ctrHmacEncrypt(p, keys.cipherKey, keys.macKey, content.serialize());
  const body = new ProtoWriter().bytes(1, ephemeralKey).bytes(2, encryptedStatic).bytes(3, encryptedMessage).finish();
  return concatBytes(Uint8Array.of(SEALED_SENDER_V1_VERSION_BYTE), body);
}

/** The V1 arm of libsignal sealed_sender_decrypt_to_usmc; `body` is everything after the version byte. */
export async function openV1(
  p: Primitives,
  body: Uint8Array,
  identity: IdentityKeyPair,
): Promise<UnidentifiedSenderMessageContent> {
  const fields = ProtoFields.decode(body, [1, 2, 3], 'sealed message');
  const ephemeralKey = fields.requiredBytes(1);
  const encryptedStatic = fields.requiredBytes(2);
  const encryptedMessage = fields.requiredBytes(3);
  const ephemeralPublic = deserializePublicKey(ephemeralKey);

  const own = identityKeyBytes(identity);
  const eph = await ephemeralKeys(p, own, ephemeralPublic, identity.publicKey, ephemeralKey);
  const senderKey = await ctrHmacDecrypt(p, eph.cipherKey, eph.macKey, encryptedStatic, 'sealed sender key');
  const senderPublic = deserializePublicKey(senderKey);
  const keys = await staticKeys(p, own, senderPublic, eph.chainKey, encryptedStatic);
  const plaintext = await ctrHmacDecrypt(p, keys.cipherKey, keys.macKey, encryptedMessage, 'sealed content');
  const content = UnidentifiedSenderMessageContent.deserialize(plaintext);
  if (!constantTimeEqual(senderKey, content.senderCertificate.identityKey)) {
    throw new CryptoError(CryptoErrorCode.SenderMismatch, 'sender certificate key does not match the sealing key');
  }
  return content;
}
