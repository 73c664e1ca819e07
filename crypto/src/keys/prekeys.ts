/**
 * Prekeys (X3DH §3.1, PQXDH §3.2): a signed curve prekey, one-time curve prekeys, and
 * signed ML-KEM-1024 prekeys (one-time, or "last resort" kept until replaced).
 * Signatures are XEdDSA over Encode(PK) / EncodeKEM(PQPK) with the identity key.
 */
import { ByteReader, ByteWriter } from '../codec.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { redactSecrets } from '../redact.ts';
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

function checkKeyId(keyId: number): number {
  if (!Number.isInteger(keyId) || keyId < 0 || keyId > 0xffffffff) {
    throw new CryptoError(CryptoErrorCode.InvalidArgument, 'prekey id must be a uint32');
  }
  return keyId;
}

export class OneTimePreKey {
  readonly keyId: number;
  readonly keyPair: KeyPair;

  constructor(keyId: number, keyPair: KeyPair) {
    this.keyId = checkKeyId(keyId);
    this.keyPair = keyPair;
  }

  toPublic(): PublicPreKey {
    return { keyId: this.keyId, publicKey: this.keyPair.serializedPublicKey() };
  }

  serialize(): Uint8Array {
    return new ByteWriter().u8(1).u32(this.keyId).raw(this.keyPair.exportPrivateKey()).finish();
  }

  static deserialize(bytes: Uint8Array): OneTimePreKey {
    const r = new ByteReader(bytes, 'one-time prekey');
    if (r.u8() !== 1) throw new CryptoError(CryptoErrorCode.UnsupportedVersion, 'one-time prekey version');
    const keyId = r.u32();
    const priv = r.raw(PRIVATE_KEY_LENGTH);
    r.end();
    return new OneTimePreKey(keyId, new KeyPair(priv));
  }
}
redactSecrets(OneTimePreKey, (self: OneTimePreKey) => `keyId: ${self.keyId}`);

export class SignedPreKey {
  readonly keyId: number;
  readonly keyPair: KeyPair;
  readonly signature: Uint8Array;
  /** Milliseconds since the epoch; lets the owner rotate old signed prekeys. */
  readonly createdAt: number;

  constructor(keyId: number, keyPair: KeyPair, signature: Uint8Array, createdAt: number) {
    this.keyId = checkKeyId(keyId);
    this.keyPair = keyPair;
    this.signature = signature;
    this.createdAt = createdAt;
  }

  toPublic(): SignedPublicPreKey {
    return { keyId: this.keyId, publicKey: this.keyPair.serializedPublicKey(), signature: this.signature };
  }

  serialize(): Uint8Array {
    return new ByteWriter()
      .u8(1)
      .u32(this.keyId)
      .raw(this.keyPair.exportPrivateKey())
      .raw(this.signature)
      .u32(Math.floor(this.createdAt / 1000))
      .finish();
  }

  static deserialize(bytes: Uint8Array): SignedPreKey {
    const r = new ByteReader(bytes, 'signed prekey');
    if (r.u8() !== 1) throw new CryptoError(CryptoErrorCode.UnsupportedVersion, 'signed prekey version');
    const keyId = r.u32();
    const priv = r.raw(PRIVATE_KEY_LENGTH);
    const signature = r.raw(64);
    const createdAt = r.u32() * 1000;
    r.end();
    return new SignedPreKey(keyId, new KeyPair(priv), signature, createdAt);
  }
}
redactSecrets(SignedPreKey, (self: SignedPreKey) => `keyId: ${self.keyId}`);

export class PqPreKey {
  readonly keyId: number;
  readonly keyPair: KemKeyPair;
  readonly signature: Uint8Array;
  /** A last-resort key is reused until replaced; a one-time key is deleted after use. */
  readonly lastResort: boolean;

  constructor(keyId: number, keyPair: KemKeyPair, signature: Uint8Array, lastResort: boolean) {
    this.keyId = checkKeyId(keyId);
    this.keyPair = keyPair;
    this.signature = signature;
    this.lastResort = lastResort;
  }

  toPublic(): SignedPublicPreKey {
    return { keyId: this.keyId, publicKey: serializeKemPublicKey(this.keyPair.publicKey), signature: this.signature };
  }

  serialize(): Uint8Array {
    return new ByteWriter()
      .u8(1)
      .u32(this.keyId)
      .u8(this.lastResort ? 1 : 0)
      .raw(this.keyPair.publicKey)
      .raw(this.keyPair.exportSecretKey())
      .raw(this.signature)
      .finish();
  }

  static deserialize(bytes: Uint8Array): PqPreKey {
    const r = new ByteReader(bytes, 'PQ prekey');
    if (r.u8() !== 1) throw new CryptoError(CryptoErrorCode.UnsupportedVersion, 'PQ prekey version');
    const keyId = r.u32();
    const lastResort = r.u8() === 1;
    const pub = r.raw(KEM_PUBLIC_KEY_LENGTH);
    const sec = r.raw(KEM_SECRET_KEY_LENGTH);
    const signature = r.raw(64);
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
