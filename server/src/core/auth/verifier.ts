/**
 * Checks an XEdDSA signature by a Curve25519 identity key (33 bytes, 0x05 prefix).
 * The server never implements signatures itself: production wiring passes
 * @pulse/crypto's `xeddsaVerify`.
 */
export type SignatureVerifier = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean;

/** Wraps a verifier so malformed keys or signatures count as "does not verify", never as a crash. */
export function safeVerifier(verify: SignatureVerifier): SignatureVerifier {
  return (publicKey, message, signature) => {
    try {
      return verify(publicKey, message, signature) === true;
    } catch {
      return false;
    }
  };
}
