/**
 * The recipient's side of sealed sender (libsignal sealed_sender_decrypt, minus the inner
 * decryption): open the envelope, validate the sender certificate against the pinned trust
 * roots at `now`, refuse a message from the recipient's own device, ask the caller whether the
 * certified sender is the one the session belongs to, and hand back the inner message for the
 * caller's SessionRecord (or SenderKeyRecord) to decrypt.
 */
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import type { IdentityKeyPair } from '../keys/identity.ts';
import type { SealedContentType } from './content.ts';
import type { CertificateValidation, CertifiedSender, SenderCertificate } from './sender-certificate.ts';
import { sealedSenderDecryptToContent, type UnsealOptions } from './unseal.ts';

/**
 * The caller's check: is `sender` (account, device and the identity key its certificate names)
 * the peer this message may come from? Typically: the identity key equals the remote identity
 * of the SessionRecord held for (account, deviceId), or, with no session yet, is one the
 * identity-trust policy accepts. false refuses the message with CRYPTO_SENDER_MISMATCH.
 */
export type IsExpectedSender = (sender: CertifiedSender) => boolean | Promise<boolean>;

export interface OpenSealedOptions extends CertificateValidation, Omit<UnsealOptions, 'identity'> {
  /** The recipient: its identity opens the envelope; its address refuses self-sent messages. */
  readonly recipient: { readonly account: string; readonly deviceId: number; readonly identity: IdentityKeyPair };
  readonly isExpectedSender: IsExpectedSender;
}

export interface OpenedSealedMessage {
  /** Who sent it, as the validated certificate names them. */
  readonly sender: CertifiedSender;
  readonly certificate: SenderCertificate;
  /** What `content` is: 'prekey' or 'message' for SessionRecord.decrypt, 'senderkey' for a group. */
  readonly type: SealedContentType;
  readonly content: Uint8Array;
  /** A ContentHint value (or another u32 a newer sender used). */
  readonly contentHint: number;
  readonly groupId: Uint8Array | undefined;
}

/**
 * Opens and authenticates a sealed message. Refusals, besides sealedSenderDecryptToContent's:
 * CRYPTO_UNTRUSTED_CERTIFICATE, CRYPTO_CERTIFICATE_EXPIRED, CRYPTO_SEALED_SENDER_SELF_SEND,
 * CRYPTO_SENDER_MISMATCH. After the caller decrypts `content`, the session it used must belong
 * to `sender.identityKey` (SessionRecord.decrypt's `session.remoteIdentityKey`).
 */
export async function sealedSenderDecrypt(
  message: Uint8Array,
  options: OpenSealedOptions,
): Promise<OpenedSealedMessage> {
  const { recipient } = options;
  const content = await sealedSenderDecryptToContent(message, { ...options, identity: recipient.identity });
  const certificate = content.senderCertificate;
  certificate.validate(options);
  if (certificate.account === recipient.account && certificate.deviceId === recipient.deviceId) {
    throw new CryptoError(CryptoErrorCode.SealedSenderSelfSend, 'sealed message from this very device');
  }
  const sender: CertifiedSender = Object.freeze({
    account: certificate.account,
    deviceId: certificate.deviceId,
    identityKey: certificate.identityKey.slice(),
  });
  if (!(await options.isExpectedSender(sender))) {
    throw new CryptoError(CryptoErrorCode.SenderMismatch, 'the sender is not the one this session belongs to');
  }
  return {
    sender,
    certificate,
    type: content.type,
    content: content.content,
    contentHint: content.contentHint,
    groupId: content.groupId,
  };
}
