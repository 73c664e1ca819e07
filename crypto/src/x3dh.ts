/**
 * Key agreement: PQXDH (Signal PQXDH spec rev. 3, §3.3 / §3.4) by default, classical X3DH
 * (Signal X3DH spec §3.3 / §3.4) only when the caller opts in. Pure functions of their
 * inputs plus fresh randomness, computed with the primitives they are given; I/O (fetching
 * bundles, storing keys) stays with the caller.
 */
import { concatBytes } from './bytes.ts';
import { dh } from './dh.ts';
import { CryptoError, CryptoErrorCode } from './errors.ts';
import { kdfSharedSecret, PQXDH_INFO, X3DH_INFO } from './kdf.ts';
import { deserializePublicKey, keyPairBytes } from './keys/curve.ts';
import type { IdentityKeyPair } from './keys/identity.ts';
import { identityKeyBytes, xeddsaVerify } from './keys/identity.ts';
import { deserializeKemPublicKey, kemEncapsulate } from './keys/kem.ts';
import type { PreKeyBundle } from './keys/prekeys.ts';
import type { Primitives, X25519KeyPairBytes } from './primitives/index.ts';
import type { PrekeyStore } from './store.ts';

/** What the initiator's first messages carry so the responder can repeat the agreement (X3DH §3.3). */
export interface PreKeyHeader {
  /** Initiator's 33-byte identity key IK_A. */
  identityKey: Uint8Array;
  /** Initiator's ephemeral EK_A (32-byte u), also the session's "base key". */
  baseKey: Uint8Array;
  signedPreKeyId: number;
  oneTimePreKeyId?: number | undefined;
  pqPreKeyId?: number | undefined;
  /** ML-KEM-1024 ciphertext CT (PQXDH §3.3). */
  kemCipherText?: Uint8Array | undefined;
}

export interface AgreementOptions {
  /** Accept a bundle (or initial message) without a post-quantum prekey. Default false. */
  allowClassicalX3dh?: boolean;
}

export interface InitiatorAgreement {
  sharedSecret: Uint8Array;
  header: PreKeyHeader;
  /** Bob's signed prekey (32-byte u): his first ratchet public key (Double Ratchet §3.3). */
  remoteSignedPreKey: Uint8Array;
  remoteIdentityKey: Uint8Array;
}

/** Alice's side: verify the bundle, run the DHs and the KEM, derive SK. */
export async function initiatorAgreement(
  p: Primitives,
  ourIdentity: IdentityKeyPair,
  bundle: PreKeyBundle,
  options: AgreementOptions = {},
): Promise<InitiatorAgreement> {
  const identityU = deserializePublicKey(bundle.identityKey);
  const spk = bundle.signedPreKey;
  const spkU = deserializePublicKey(spk.publicKey);
  // X3DH §3.3: "Alice verifies the prekey signature and aborts the protocol if verification fails."
  if (!xeddsaVerify(bundle.identityKey, spk.publicKey, spk.signature)) {
    throw new CryptoError(CryptoErrorCode.BadSignature, 'signed prekey signature does not verify');
  }
  const pq = bundle.pqPreKey;
  let kemPublicKey: Uint8Array | undefined;
  if (pq) {
    if (!xeddsaVerify(bundle.identityKey, pq.publicKey, pq.signature)) {
      throw new CryptoError(CryptoErrorCode.BadSignature, 'PQ prekey signature does not verify');
    }
    kemPublicKey = deserializeKemPublicKey(pq.publicKey);
  } else if (!options.allowClassicalX3dh) {
    throw new CryptoError(CryptoErrorCode.MissingPqPrekey, 'bundle has no post-quantum prekey; PQXDH is required');
  }
  const opkU = bundle.oneTimePreKey ? deserializePublicKey(bundle.oneTimePreKey.publicKey) : undefined;

  const ephemeral = await p.generateX25519();
  const ik = identityKeyBytes(ourIdentity);
  const dhs = await Promise.all([
    dh(p, ik, spkU), // DH1 = DH(IK_A, SPK_B)
    dh(p, ephemeral, identityU), // DH2 = DH(EK_A, IK_B)
    dh(p, ephemeral, spkU), // DH3 = DH(EK_A, SPK_B)
    ...(opkU ? [dh(p, ephemeral, opkU)] : []), // DH4 = DH(EK_A, OPK_B)
  ]);
  let kemCipherText: Uint8Array | undefined;
  if (kemPublicKey) {
    const encapsulated = kemEncapsulate(kemPublicKey);
    kemCipherText = encapsulated.cipherText;
    dhs.push(encapsulated.sharedSecret); // PQXDH §3.3: KM = DH1 || DH2 || DH3 || DH4 || SS
  }
  const sharedSecret = await kdfSharedSecret(p, concatBytes(...dhs), kemPublicKey ? PQXDH_INFO : X3DH_INFO);
  return {
    sharedSecret,
    remoteSignedPreKey: spkU,
    remoteIdentityKey: bundle.identityKey,
    header: {
      identityKey: ourIdentity.publicKey,
      baseKey: ephemeral.publicKey,
      signedPreKeyId: spk.keyId,
      oneTimePreKeyId: bundle.oneTimePreKey?.keyId,
      pqPreKeyId: pq?.keyId,
      kemCipherText,
    },
  };
}

export interface ResponderAgreement {
  sharedSecret: Uint8Array;
  /** Bob's signed prekey pair: his first ratchet key pair (Double Ratchet §3.3). */
  signedPreKeyPrivate: Uint8Array;
  signedPreKeyPublic: Uint8Array;
}

/** Bob's side (X3DH §3.4, PQXDH §3.4): repeat the DHs and decapsulate. Consumes nothing. */
export async function responderAgreement(
  p: Primitives,
  ourIdentity: IdentityKeyPair,
  store: PrekeyStore,
  header: PreKeyHeader,
  options: AgreementOptions = {},
): Promise<ResponderAgreement> {
  const identityU = deserializePublicKey(header.identityKey);
  const baseKey = header.baseKey;
  const spk = await store.getSignedPreKey(header.signedPreKeyId);
  if (!spk) throw new CryptoError(CryptoErrorCode.UnknownPrekey, `unknown signed prekey ${header.signedPreKeyId}`);
  let opk: X25519KeyPairBytes | undefined;
  if (header.oneTimePreKeyId !== undefined) {
    const record = await store.getOneTimePreKey(header.oneTimePreKeyId);
    if (!record) {
      throw new CryptoError(CryptoErrorCode.UnknownPrekey, `unknown one-time prekey ${header.oneTimePreKeyId}`);
    }
    opk = keyPairBytes(record.keyPair);
  }
  let sharedSecretPq: Uint8Array | undefined;
  if (header.pqPreKeyId !== undefined && header.kemCipherText) {
    const pq = await store.getPqPreKey(header.pqPreKeyId);
    if (!pq) throw new CryptoError(CryptoErrorCode.UnknownPrekey, `unknown PQ prekey ${header.pqPreKeyId}`);
    sharedSecretPq = pq.keyPair.decapsulate(header.kemCipherText);
  } else if (!options.allowClassicalX3dh) {
    throw new CryptoError(
      CryptoErrorCode.MissingPqPrekey,
      'initial message has no post-quantum part; PQXDH is required',
    );
  }
  const spkPair = keyPairBytes(spk.keyPair);
  const dhs = await Promise.all([
    dh(p, spkPair, identityU), // DH1
    dh(p, identityKeyBytes(ourIdentity), baseKey), // DH2
    dh(p, spkPair, baseKey), // DH3
    ...(opk ? [dh(p, opk, baseKey)] : []), // DH4
  ]);
  if (sharedSecretPq) dhs.push(sharedSecretPq);
  const sharedSecret = await kdfSharedSecret(p, concatBytes(...dhs), sharedSecretPq ? PQXDH_INFO : X3DH_INFO);
  return { sharedSecret, signedPreKeyPrivate: spkPair.privateKey, signedPreKeyPublic: spkPair.publicKey };
}
