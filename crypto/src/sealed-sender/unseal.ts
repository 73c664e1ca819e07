/**
 * Opening a sealed message of either version (libsignal sealed_sender_decrypt_to_usmc): the size
 * bound first, then the version byte's high nibble (the version a reader must support; the low
 * one is the writer's) picks v1 or v2.
 */
import { expectBytes } from '../bytes.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import type { IdentityKeyPair } from '../keys/identity.ts';
import { type CryptoLimits, resolveLimits } from '../limits.ts';
import { type CryptoPrimitives, resolvePrimitives } from '../primitives/index.ts';
import type { UnidentifiedSenderMessageContent } from './content.ts';
import { openV1, SEALED_SENDER_V1 } from './v1.ts';
import { openV2, SEALED_SENDER_V2 } from './v2.ts';

export interface UnsealOptions {
  /** The recipient's identity key pair. */
  readonly identity: IdentityKeyPair;
  readonly primitives?: CryptoPrimitives | undefined;
  /** Overrides of DEFAULT_CRYPTO_LIMITS (maxSealedMessageBytes). */
  readonly limits?: Partial<CryptoLimits> | undefined;
}

/**
 * Opens a sealed message (v1 or v2) addressed to `identity` and returns its content, checking
 * that the certificate inside names the identity key that sealed it. It does NOT validate the
 * certificate: use sealedSenderDecrypt unless you validate it yourself. Refusals:
 * CRYPTO_MALFORMED_MESSAGE (empty, over maxSealedMessageBytes, unparsable), CRYPTO_UNSUPPORTED_VERSION
 * (required version neither 1 nor 2; libsignal also reads 0 as 1, this does not),
 * CRYPTO_INVALID_KEY / CRYPTO_LOW_ORDER_POINT (ephemeral or sender key), CRYPTO_DECRYPT_FAILED
 * (a MAC or AES-GCM-SIV tag, or v2's ephemeral key check: not for this recipient, or changed),
 * CRYPTO_SENDER_MISMATCH (the certificate names another key than the one that sealed it).
 */
export async function sealedSenderDecryptToContent(
  message: Uint8Array,
  options: UnsealOptions,
): Promise<UnidentifiedSenderMessageContent> {
  expectBytes(message, undefined, 'sealed message');
  const limits = resolveLimits(options.limits);
  if (message.length > limits.maxSealedMessageBytes) {
    throw new CryptoError(CryptoErrorCode.MalformedMessage, 'sealed message exceeds maxSealedMessageBytes');
  }
  if (message.length === 0) throw new CryptoError(CryptoErrorCode.MalformedMessage, 'sealed message is empty');
  const required = message[0]! >> 4;
  const p = resolvePrimitives(options.primitives);
  if (required === SEALED_SENDER_V1) return openV1(p, message.subarray(1), options.identity);
  if (required === SEALED_SENDER_V2) return openV2(p, message.subarray(1), options.identity);
  throw new CryptoError(CryptoErrorCode.UnsupportedVersion, `sealed sender version ${required} is not supported`);
}
