/**
 * Sealed sender v2, multi-recipient (libsignal sealed_sender.rs sealed_sender_multi_recipient_encrypt,
 * the V2 arm of sealed_sender_decrypt_to_usmc, module sealed_sender_v2), after Barbosa's
 * "Randomness Reuse" §4.1 instantiated with ElGamal: one content encryption for every recipient,
 * 48 bytes more per recipient.
 *
 *   M = random(32); r = HKDF(M, "Sealed Sender v2: r (2023-08)")[32]; K = HKDF(M, "Sealed Sender v2: K")[32]
 *   e = r as an X25519 private key (clamped), E = its public key
 *   C_i  = HKDF(DH(e, R_i) ‖ E ‖ R_i, "Sealed Sender v2: DH")[32] ⊕ M
 *   AT_i = HKDF(DH(s, R_i) ‖ E ‖ C_i ‖ S ‖ R_i, "Sealed Sender v2: DH-sender")[16]
 *   ciphertext = AES-256-GCM-SIV(K, nonce 0^12, no AAD, content) ‖ tag
 * HKDF is HKDF-SHA-256 with no salt; keys in HKDF inputs are 33-byte serializations. A recipient
 * receives 0x22 ‖ C ‖ AT ‖ E (32 bytes, no type byte) ‖ ciphertext; it recovers M, re-derives E and
 * refuses the message unless it is the E sent (so C was made for it), decrypts, then checks AT
 * with the sender key the certificate names (only that key's holder could have made it).
 * AES-GCM-SIV has no WebCrypto or OpenSSL 3.0 form: it runs in @noble/ciphers on every path.
 */
import { gcmsiv } from '@noble/ciphers/aes.js';
import { concatBytes, constantTimeEqual, expectBytes, utf8 } from '../bytes.ts';
import { dh } from '../dh.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { clampPrivateKey, deserializePublicKey, serializePublicKey, x25519PublicKeyOf } from '../keys/curve.ts';
import { type IdentityKeyPair, identityKeyBytes } from '../keys/identity.ts';
import {
  type CryptoPrimitives,
  type Primitives,
  resolvePrimitives,
  type X25519KeyPairBytes,
} from '../primitives/index.ts';
import { UnidentifiedSenderMessageContent } from './content.ts';

/** A v2 message as one recipient receives it: (required 2 << 4) | current 2. */
export const SEALED_SENDER_V2_VERSION_BYTE = 0x22;
export const SEALED_SENDER_V2 = 2;
const MESSAGE_KEY_LENGTH = 32;
const AUTH_TAG_LENGTH = 16;
/** C_i ‖ AT_i: what each recipient gets on its own. */
export const RECIPIENT_KEY_LENGTH = MESSAGE_KEY_LENGTH + AUTH_TAG_LENGTH;
/**
 * libsignal's current label: since 2023-08 e is r itself (32 bytes, clamped); the earlier
 * "Sealed Sender v2: r" reduced 64 bytes mod ℓ. libsignal-client 0.103 derives E this way.
 */
const LABEL_R = utf8('Sealed Sender v2: r (2023-08)');
const LABEL_K = utf8('Sealed Sender v2: K');
const LABEL_DH = utf8('Sealed Sender v2: DH');
const LABEL_DH_SENDER = utf8('Sealed Sender v2: DH-sender');
/** HKDF "no salt" (RFC 5869 §2.2): a string of HashLen zeros. */
const NO_SALT = new Uint8Array(32);
const ZERO_NONCE = new Uint8Array(12);
const GCM_SIV_TAG_LENGTH = 16;

/** libsignal sealed_sender_v2::DerivedKeys::calculate. */
async function derivedKeys(p: Primitives, m: Uint8Array): Promise<{ e: X25519KeyPairBytes; k: Uint8Array }> {
  const [r, k] = await Promise.all([
    p.hkdfSha256(m, NO_SALT, LABEL_R, 32),
    p.hkdfSha256(m, NO_SALT, LABEL_K, MESSAGE_KEY_LENGTH),
  ]);
  const privateKey = clampPrivateKey(r);
  return { e: { privateKey, publicKey: x25519PublicKeyOf(privateKey) }, k };
}

/** libsignal sealed_sender_v2::apply_agreement_xor; `ephemeralKey` and `recipientKey` are 33-byte serializations. */
async function applyAgreementXor(
  p: Primitives,
  own: X25519KeyPairBytes,
  theirPublic: Uint8Array,
  ephemeralKey: Uint8Array,
  recipientKey: Uint8Array,
  input: Uint8Array,
): Promise<Uint8Array> {
  const ikm = concatBytes(await dh(p, own, theirPublic), ephemeralKey, recipientKey);
  const out = await p.hkdfSha256(ikm, NO_SALT, LABEL_DH, MESSAGE_KEY_LENGTH);
  for (let i = 0; i < MESSAGE_KEY_LENGTH; i++) out[i]! ^= input[i]!;
  return out;
}

/** libsignal sealed_sender_v2::compute_authentication_tag. */
async function authenticationTag(
  p: Primitives,
  own: X25519KeyPairBytes,
  theirPublic: Uint8Array,
  ephemeralKey: Uint8Array,
  encryptedMessageKey: Uint8Array,
  senderKey: Uint8Array,
  recipientKey: Uint8Array,
): Promise<Uint8Array> {
  const ikm = concatBytes(await dh(p, own, theirPublic), ephemeralKey, encryptedMessageKey, senderKey, recipientKey);
  return p.hkdfSha256(ikm, NO_SALT, LABEL_DH_SENDER, AUTH_TAG_LENGTH);
}

export interface MultiRecipientSealOptions {
  /** The sender's identity; the content's certificate must name its public key. */
  readonly sender: IdentityKeyPair;
  /** Each recipient device's identity key (33 bytes); devices of one account may share one. */
  readonly recipientIdentityKeys: readonly Uint8Array[];
  readonly primitives?: CryptoPrimitives | undefined;
}

export interface MultiRecipientSealed {
  /** C_i ‖ AT_i (48 bytes) for each recipient, in the order given. */
  readonly recipientKeys: readonly Uint8Array[];
  /** What every recipient shares: E (32 bytes) ‖ AES-GCM-SIV ciphertext ‖ tag. */
  readonly shared: Uint8Array;
}

/**
 * Seals `content` once for many recipient devices (sealed sender v2). The server keeps `shared`
 * once and delivers `sealedSenderMultiRecipientMessage(recipientKeys[i], shared)` to device i.
 */
export function sealedSenderMultiRecipientEncrypt(
  content: UnidentifiedSenderMessageContent,
  options: MultiRecipientSealOptions,
): Promise<MultiRecipientSealed> {
  return sealWithSeed(content, options, globalThis.crypto.getRandomValues(new Uint8Array(MESSAGE_KEY_LENGTH)));
}

/** Internal (known-answer tests): the v2 encryption with the seed M given. */
export async function sealWithSeed(
  content: UnidentifiedSenderMessageContent,
  options: MultiRecipientSealOptions,
  m: Uint8Array,
): Promise<MultiRecipientSealed> {
  if (!(content instanceof UnidentifiedSenderMessageContent)) {
    throw new CryptoError(CryptoErrorCode.InvalidArgument, 'content must be an UnidentifiedSenderMessageContent');
  }
  const senderKey = options.sender.publicKey;
  if (!constantTimeEqual(senderKey, content.senderCertificate.identityKey)) {
    throw new CryptoError(CryptoErrorCode.InvalidArgument, "the certificate does not name the sender's identity key");
  }
  const recipients = options.recipientIdentityKeys.map((key) => {
    expectBytes(key, undefined, 'recipient identity key');
    return { key, public: deserializePublicKey(key) };
  });
  const p = resolvePrimitives(options.primitives);
  const { e, k } = await derivedKeys(p, expectBytes(m, MESSAGE_KEY_LENGTH, 'seed'));
  const ephemeralKey = serializePublicKey(e.publicKey);
  const sender = identityKeyBytes(options.sender);
  // C_i and AT_i depend only on the recipient's identity key: devices sharing one share them.
  const byKey = new Map<string, Uint8Array>();
  const recipientKeys: Uint8Array[] = [];
  for (const recipient of recipients) {
    const id = recipient.key.join(',');
    let both = byKey.get(id);
    if (!both) {
      const c = await applyAgreementXor(p, e, recipient.public, ephemeralKey, recipient.key, m);
      const at = await authenticationTag(p, sender, recipient.public, ephemeralKey, c, senderKey, recipient.key);
      both = concatBytes(c, at);
      byKey.set(id, both);
    }
    recipientKeys.push(both.slice());
  }
  const ciphertext = gcmsiv(k, ZERO_NONCE).encrypt(content.serialize());
  return { recipientKeys, shared: concatBytes(e.publicKey, ciphertext) };
}

/** The message one recipient receives (libsignal sealedSenderMultiRecipientMessageForSingleRecipient's output form). */
export function sealedSenderMultiRecipientMessage(recipientKey: Uint8Array, shared: Uint8Array): Uint8Array {
  expectBytes(recipientKey, RECIPIENT_KEY_LENGTH, 'recipient key');
  expectBytes(shared, undefined, 'shared part');
  return concatBytes(Uint8Array.of(SEALED_SENDER_V2_VERSION_BYTE), recipientKey, shared);
}

/** The V2 arm of libsignal sealed_sender_decrypt_to_usmc; `body` is everything after the version byte. */
export async function openV2(
  p: Primitives,
  body: Uint8Array,
  identity: IdentityKeyPair,
): Promise<UnidentifiedSenderMessageContent> {
  if (body.length < RECIPIENT_KEY_LENGTH + 32 + GCM_SIV_TAG_LENGTH) {
    throw new CryptoError(CryptoErrorCode.MalformedMessage, 'sealed sender v2 message is truncated');
  }
  const c = body.subarray(0, MESSAGE_KEY_LENGTH);
  const at = body.subarray(MESSAGE_KEY_LENGTH, RECIPIENT_KEY_LENGTH);
  const ephemeralPublic = body.subarray(RECIPIENT_KEY_LENGTH, RECIPIENT_KEY_LENGTH + 32);
  const ciphertext = body.subarray(RECIPIENT_KEY_LENGTH + 32);
  const ephemeralKey = serializePublicKey(ephemeralPublic);
  deserializePublicKey(ephemeralKey);
  const own = identityKeyBytes(identity);
  const m = await applyAgreementXor(p, own, ephemeralPublic, ephemeralKey, identity.publicKey, c);
  const { e, k } = await derivedKeys(p, m);
  if (!constantTimeEqual(e.publicKey, ephemeralPublic)) {
    throw new CryptoError(CryptoErrorCode.DecryptFailed, 'sealed sender v2: derived ephemeral key does not match');
  }
  let plaintext: Uint8Array;
  try {
    plaintext = gcmsiv(k, ZERO_NONCE).decrypt(ciphertext);
  } catch (cause) {
    throw new CryptoError(CryptoErrorCode.DecryptFailed, 'sealed sender v2: content did not authenticate', { cause });
  }
  const content = UnidentifiedSenderMessageContent.deserialize(plaintext);
  const senderKey = content.senderCertificate.identityKey;
  const expected = await authenticationTag(
    p,
    own,
    deserializePublicKey(senderKey),
    ephemeralKey,
    c,
    senderKey,
    identity.publicKey,
  );
  if (!constantTimeEqual(expected, at)) {
    throw new CryptoError(
      CryptoErrorCode.SenderMismatch,
      'sender certificate key does not match the authentication tag',
    );
  }
  return content;
}
