/**
 * The one small interface through which every session operation reaches X25519,
 * AES-256-CBC, AES-256-CTR, HMAC-SHA-256 and HKDF-SHA-256 (libsignal's message and sealed-sender constructions). Implementations: noble (portable
 * reference, pure JS), WebCrypto (browsers, Node), node:crypto (Node's fast path).
 * Async because WebCrypto is; the synchronous implementations resolve immediately.
 */
export interface X25519KeyPairBytes {
  /** Clamped 32-byte scalar. */
  privateKey: Uint8Array;
  /** 32-byte u-coordinate. */
  publicKey: Uint8Array;
}

/** The platform paths there are. */
export type PrimitivesName = 'node' | 'webcrypto' | 'noble';

export interface Primitives {
  readonly name: PrimitivesName;
  /** Fresh X25519 key pair from the platform CSPRNG. */
  generateX25519(): Promise<X25519KeyPairBytes>;
  /**
   * RFC 7748 X25519(k, u) with our key pair (its public half lets platforms import the
   * private key without recomputing it) and the peer's u. The caller rejects all zeros.
   */
  x25519(own: X25519KeyPairBytes, peerPublicKey: Uint8Array): Promise<Uint8Array>;
  hmacSha256(key: Uint8Array, data: Uint8Array): Promise<Uint8Array>;
  /** RFC 5869 HKDF-SHA-256 (extract with `salt`, expand `info` to `length` bytes). */
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Promise<Uint8Array>;
  /** AES-256-CBC with PKCS#7 padding (NIST SP 800-38A §6.2): 32-byte key, 16-byte IV; output is a multiple of 16. */
  aesCbcEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array>;
  /**
   * The inverse; rejects with CryptoError(DecryptFailed) on a length that is not a positive
   * multiple of 16 or bad padding. Callers check the MAC (or signature) first: this is
   * never an oracle for unauthenticated input.
   */
  aesCbcDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array>;
  /**
   * AES-256-CTR (NIST SP 800-38A §6.5) with the whole 16-byte block as a big-endian counter
   * starting at `iv` (libsignal crypto.rs uses Ctr128 with a zero IV for sealed sender).
   * Encryption and decryption are the same operation; any length, no padding.
   */
  aesCtr(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Promise<Uint8Array>;
}
