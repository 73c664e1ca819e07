/**
 * Prekeys (X3DH §3.1, PQXDH §3.2): a signed curve prekey, one-time curve prekeys, and
 * signed ML-KEM-1024 prekeys (one-time, or "last resort" kept until replaced).
 * Signatures are XEdDSA over Encode(PK) / EncodeKEM(PQPK) with the identity key.
 */
import { ByteReader, ByteWriter } from '../codec.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { redactSecrets } from '../redact.ts';
import { SIGNATURE_LENGTH } from '../xeddsa.ts';
import { KeyPair, PRIVATE_KEY_LENGTH } from './curve.ts';
import type { IdentityKeyPair } from './identity.ts';
import { KEM_PUBLIC_KEY_LENGTH, KEM_SECRET_KEY_LENGTH, KemKeyPair, serializeKemPublicKey } from './kem.ts';

/** A public prekey as a bundle carries it (same shape as proto's `preKey`). */
export interface PublicPreKey {
  keyId: number;
  /** 33-byte 0x05-prefixed curve key, or 1569-byte 0x0A-prefixed ML-KEM-1024 key. */
  publicKey: Uint8Array;
}

/** A signed public prekey (proto's `signedPreKey`). */
export interface SignedPublicPreKey extends PublicPreKey {
  /** XEdDSA signature by the identity key over `publicKey` (the serialized form). */
  signature: Uint8Array;
}

/** What a server hands out for one device (X3DH §3.2, PQXDH §3.3). */
export interface PreKeyBundle {
  /** 33-byte identity key. */
  identityKey: Uint8Array;
  signedPreKey: SignedPublicPreKey;
  /** ML-KEM-1024 prekey; without it session setup refuses unless classical X3DH is allowed. */
  pqPreKey?: SignedPublicPreKey | undefined;
  oneTimePreKey?: PublicPreKey | undefined;
}

/** The stored form's version byte, the same for every kind of prekey. */
const PREKEY_RECORD_VERSION = 1;

function checkKeyId(keyId: number): number {
  if (!Number.isInteger(keyId) || keyId < 0 || keyId > 0xffffffff) {
    throw new CryptoError(CryptoErrorCode.InvalidArgument, 'prekey id must be a uint32');
  }
  return keyId;
}

/**
 * What every kind of prekey shares: a uint32 id, a key pair, the public form a bundle
 * carries, and the head of the stored form, `u8 version (1) | u32 keyId`, after which
 * each kind writes its own fields.
 */
abstract class PreKey<Pair> {
  readonly keyId: number;
  readonly keyPair: Pair;

  constructor(keyId: number, keyPair: Pair) {
    this.keyId = checkKeyId(keyId);
    this.keyPair = keyPair;
  }

  /** Encode(PK) of X3DH §2.5 or EncodeKEM of PQXDH §2.5, as a bundle carries it. */
  protected abstract encodedPublicKey(): Uint8Array;

  toPublic(): PublicPreKey {
    return { keyId: this.keyId, publicKey: this.encodedPublicKey() };
  }

  /** Versioned bytes, private key included. */
  abstract serialize(): Uint8Array;

  protected storedFormHead(): ByteWriter {
    return new ByteWriter().u8(PREKEY_RECORD_VERSION).u32(this.keyId);
  }
}

/** Reads a stored form's head; the caller reads the rest and calls `end()`. */
function openStoredForm(bytes: Uint8Array, what: string): { r: ByteReader; keyId: number } {
  const r = new ByteReader(bytes, what);
  if (r.u8() !== PREKEY_RECORD_VERSION) throw new CryptoError(CryptoErrorCode.UnsupportedVersion, `${what} version`);
  return { r, keyId: r.u32() };
}

/** A one-time curve prekey (X3DH OPK). Stored form: head | privateKey[32]. */
export class OneTimePreKey extends PreKey<KeyPair> {
  protected encodedPublicKey(): Uint8Array {
    return this.keyPair.serializedPublicKey();
  }

  serialize(): Uint8Array {
    return this.storedFormHead().raw(this.keyPair.exportPrivateKey()).finish();
  }

  static deserialize(bytes: Uint8Array): OneTimePreKey {
    const { r, keyId } = openStoredForm(bytes, 'one-time prekey');
    const priv = r.raw(PRIVATE_KEY_LENGTH);
    r.end();
    return new OneTimePreKey(keyId, new KeyPair(priv));
  }
}
redactSecrets(OneTimePreKey, (self: OneTimePreKey) => `keyId: ${self.keyId}`);

/** The signed curve prekey (X3DH SPK). Stored form: head | privateKey[32] | signature[64] | u32 createdAt (seconds). */
export class SignedPreKey extends PreKey<KeyPair> {
  readonly signature: Uint8Array;
  /** Milliseconds since the epoch; lets the owner rotate old signed prekeys. */
  readonly createdAt: number;

  constructor(keyId: number, keyPair: KeyPair, signature: Uint8Array, createdAt: number) {
    super(keyId, keyPair);
    this.signature = signature;
    this.createdAt = createdAt;
  }

  protected encodedPublicKey(): Uint8Array {
    return this.keyPair.serializedPublicKey();
  }

  override toPublic(): SignedPublicPreKey {
    return { ...super.toPublic(), signature: this.signature };
  }

  serialize(): Uint8Array {
    return this.storedFormHead()
      .raw(this.keyPair.exportPrivateKey())
      .raw(this.signature)
      .u32(Math.floor(this.createdAt / 1000))
      .finish();
  }

  static deserialize(bytes: Uint8Array): SignedPreKey {
    const { r, keyId } = openStoredForm(bytes, 'signed prekey');
    const priv = r.raw(PRIVATE_KEY_LENGTH);
    const signature = r.raw(SIGNATURE_LENGTH);
    const createdAt = r.u32() * 1000;
    r.end();
    return new SignedPreKey(keyId, new KeyPair(priv), signature, createdAt);
  }
}
redactSecrets(SignedPreKey, (self: SignedPreKey) => `keyId: ${self.keyId}`);

/**
 * A signed ML-KEM-1024 prekey (PQXDH PQSPK or PQOPK). Stored form:
 * head | u8 lastResort | publicKey[1568] | secretKey[3168] | signature[64].
 */
export class PqPreKey extends PreKey<KemKeyPair> {
  readonly signature: Uint8Array;
  /** A last-resort key is reused until replaced; a one-time key is deleted after use. */
  readonly lastResort: boolean;

  constructor(keyId: number, keyPair: KemKeyPair, signature: Uint8Array, lastResort: boolean) {
    super(keyId, keyPair);
    this.signature = signature;
    this.lastResort = lastResort;
  }

  protected encodedPublicKey(): Uint8Array {
    return serializeKemPublicKey(this.keyPair.publicKey);
  }

  override toPublic(): SignedPublicPreKey {
    return { ...super.toPublic(), signature: this.signature };
  }

  serialize(): Uint8Array {
    return this.storedFormHead()
      .u8(this.lastResort ? 1 : 0)
      .raw(this.keyPair.publicKey)
      .raw(this.keyPair.exportSecretKey())
      .raw(this.signature)
      .finish();
  }

  static deserialize(bytes: Uint8Array): PqPreKey {
    const { r, keyId } = openStoredForm(bytes, 'PQ prekey');
    const flag = r.u8();
    if (flag > 1) throw new CryptoError(CryptoErrorCode.MalformedMessage, 'PQ prekey: bad last-resort flag');
    const lastResort = flag === 1;
    const pub = r.raw(KEM_PUBLIC_KEY_LENGTH);
    const sec = r.raw(KEM_SECRET_KEY_LENGTH);
    const signature = r.raw(SIGNATURE_LENGTH);
    r.end();
    return new PqPreKey(keyId, new KemKeyPair(pub, sec), signature, lastResort);
  }
}
redactSecrets(PqPreKey, (self: PqPreKey) => `keyId: ${self.keyId}, lastResort: ${self.lastResort}`);

export function generateSignedPreKey(identity: IdentityKeyPair, keyId: number, now: number = Date.now()): SignedPreKey {
  const keyPair = KeyPair.generate();
  return new SignedPreKey(keyId, keyPair, identity.sign(keyPair.serializedPublicKey()), now);
}

export function generateOneTimePreKeys(firstKeyId: number, count: number): OneTimePreKey[] {
  const keys: OneTimePreKey[] = [];
  for (let i = 0; i < count; i++) keys.push(new OneTimePreKey((firstKeyId + i) >>> 0, KeyPair.generate()));
  return keys;
}

export function generatePqPreKey(
  identity: IdentityKeyPair,
  keyId: number,
  options: { lastResort: boolean } = { lastResort: false },
): PqPreKey {
  const keyPair = KemKeyPair.generate();
  const signature = identity.sign(serializeKemPublicKey(keyPair.publicKey));
  return new PqPreKey(keyId, keyPair, signature, options.lastResort);
}
