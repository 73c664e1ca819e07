import type { FrameOf } from '@pulse/proto';

/** One device of one account: the unit every 1:1 session is built with. */
export interface DeviceAddress {
  readonly account: string;
  readonly deviceId: number;
}

/** Which way a session is about to be used: building one from a bundle (sending), or taking one over from a message (receiving). */
export type IdentityDirection = 'sending' | 'receiving';

/**
 * The caller's say over whose identity a session may be built with (libsignal's
 * IdentityKeyStore.is_trusted_identity). Asked before a session is built from a bundle
 * ('sending'), and before a session from a received message is built or replaces the current
 * one ('receiving'): only about identity keys the peer proved it holds. Return false to refuse:
 * the operation fails with CryptoError CRYPTO_UNTRUSTED_IDENTITY and the engine's state is
 * unchanged (the same message can be decrypted again once the key is accepted). Should not
 * record anything: record the key after a successful decrypt (it is in the result).
 */
export type IsTrustedIdentity = (
  address: DeviceAddress,
  identityKey: Uint8Array,
  direction: IdentityDirection,
) => boolean | Promise<boolean>;

export interface E2EEngineOptions {
  /** Absent: every identity is accepted, and trust is checked by the caller after the fact (trust.ts). */
  isTrustedIdentity?: IsTrustedIdentity | undefined;
}

/** A device's prekey bundle as `bundles` carries it. */
export type DeviceBundle = FrameOf<'bundles'>['bundles'][number];

/** What `prekeys_upload` carries, without the request id. */
export type PreKeyUpload = Omit<FrameOf<'prekeys_upload'>, 'type' | 'id'>;

/**
 * The SDK's view of end-to-end encryption: everything the client needs from
 * @pulse/crypto, as session operations (never raw DH or AEAD). One
 * implementation (`crypto-engine.ts`) adapts @pulse/crypto's public API; the
 * client logic never touches keys directly.
 *
 * State (identity, prekeys, sessions, sender keys) lives inside the engine and
 * is exported as one byte string that the profile seals at rest.
 */
export interface E2EEngine {
  /** This device's 33-byte identity public key. */
  readonly identityKey: Uint8Array;
  /** XEdDSA signature with the identity key (server authentication). */
  sign(message: Uint8Array): Uint8Array;
  /** Replaces the identity check given at create/restore (undefined: none). */
  setIdentityTrust(check: IsTrustedIdentity | undefined): void;

  /** Fresh one-time prekeys (EC and PQ, `count` each); with `rotate`, also a new signed and last-resort PQ prekey. */
  generatePreKeys(count: number, rotate: boolean): Promise<PreKeyUpload>;

  /** True when a current session with `address` exists. */
  hasSession(address: DeviceAddress): boolean;
  /** The identity key the current session with `address` was built with. */
  sessionIdentity(address: DeviceAddress): Uint8Array | undefined;
  /** Builds a session from a bundle (PQXDH initiator) and makes it current; earlier ones stay archived. */
  startSession(address: DeviceAddress, bundle: DeviceBundle): Promise<void>;
  /** Forgets every session with `address` (device removed or identity changed). */
  dropSession(address: DeviceAddress): void;
  encrypt(address: DeviceAddress, plaintext: Uint8Array): Promise<Uint8Array>;
  /**
   * Decrypts with whichever session the message belongs to (current or archived), which becomes
   * current; builds a session as responder when the message is a new initial (prekey) message.
   */
  decrypt(address: DeviceAddress, ciphertext: Uint8Array): Promise<{ plaintext: Uint8Array; identityKey: Uint8Array }>;

  /** The numeric safety number for this account and a contact (libsignal Fingerprint, displayable string). */
  safetyNumber(localAccount: string, remoteAccount: string, remoteIdentityKey: Uint8Array): Promise<string>;

  /** Creates (or, with `rotate`, replaces) this device's sender key for `groupId`; returns its distribution message. */
  senderKeyDistribution(groupId: string, rotate: boolean): Promise<Uint8Array>;
  /** Installs a member's sender key from its distribution message. */
  processSenderKeyDistribution(sender: DeviceAddress, groupId: string, distribution: Uint8Array): Promise<void>;
  /** Forgets a member's sender key (removed member). */
  dropSenderKey(sender: DeviceAddress, groupId: string): void;
  groupEncrypt(groupId: string, plaintext: Uint8Array): Promise<Uint8Array>;
  groupDecrypt(sender: DeviceAddress, groupId: string, ciphertext: Uint8Array): Promise<Uint8Array>;

  /**
   * Sealed sender v1 (PROTOCOL.md "Sealed sender"): seals `content` (an envelope payload) to the
   * identity key of the current session with `address`, with this device's sender `certificate`
   * inside. Undefined when there is no session to take the key from.
   */
  seal(address: DeviceAddress, certificate: Uint8Array, content: SealedContent): Promise<Uint8Array | undefined>;
  /**
   * Opens a sealed envelope addressed to this device: validates the certificate against the
   * `trustRoot` at `now`, refuses one from this very device, and asks `isExpectedSender` about
   * the certified sender. Throws CryptoError (CRYPTO_UNTRUSTED_CERTIFICATE,
   * CRYPTO_CERTIFICATE_EXPIRED, CRYPTO_SENDER_MISMATCH, ...) on any refusal.
   */
  unseal(sealed: Uint8Array, options: UnsealContext): Promise<UnsealedEnvelope>;

  /** Everything above, for the profile to seal and store. */
  exportState(): Promise<Uint8Array>;
}

/** What a sealed envelope carries inside: the payload and libsignal's content type for it. */
export interface SealedContent {
  readonly type: 'prekey' | 'message' | 'senderkey';
  readonly payload: Uint8Array;
}

export interface UnsealContext {
  /** The pinned trust root (33 bytes). */
  readonly trustRoot: Uint8Array;
  /** When to check the certificate's expiry: the envelope's `serverTime`. */
  readonly now: number;
  /** This device, which a sealed envelope may not claim to come from. */
  readonly self: DeviceAddress;
  /** Is this the device, and its identity key, the sender's signed list gives? */
  readonly isExpectedSender: (sender: CertifiedDevice) => boolean | Promise<boolean>;
}

/** A device as a sender certificate names it. */
export interface CertifiedDevice extends DeviceAddress {
  readonly identityKey: Uint8Array;
}

export interface UnsealedEnvelope {
  readonly sender: CertifiedDevice;
  /** The envelope payload that was sealed. */
  readonly payload: Uint8Array;
}

/** Builds an engine for a fresh identity or from exported state. */
export interface E2EEngineFactory {
  create(options?: E2EEngineOptions): Promise<E2EEngine>;
  restore(state: Uint8Array, options?: E2EEngineOptions): Promise<E2EEngine>;
}

export function addressKey(address: DeviceAddress): string {
  return `${address.account}.${address.deviceId}`;
}
