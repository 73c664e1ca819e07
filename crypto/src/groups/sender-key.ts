/**
 * Sender Keys (Signal's group messaging scheme, libsignal rust/protocol/src/group_cipher.rs):
 * each member has, per group, a sender chain (chain key + signing key). Its distribution
 * message travels to the others over the 1:1 sessions. Every group message advances the
 * chain (HMAC 0x01 / 0x02, forward secrecy) and is XEdDSA-signed by the sender's signing
 * key, so members cannot forge each other's messages. After a member is removed every
 * remaining sender calls rotate() and redistributes: the removed member never gets the new chain.
 * Messages use libsignal's construction: SenderMessageKey (HKDF "WhisperGroup" → IV ‖ key),
 * AES-256-CBC, the signature over the whole message (checked before anything is decrypted).
 */

import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, constantTimeEqual, expectBytes, toHex } from '../bytes.ts';
import { ByteReader, ByteWriter } from '../codec.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { kdfChainKey, senderMessageKeys } from '../kdf.ts';
import { clampPrivateKey, isLowOrderPoint, KeyPair, x25519PublicKeyOf } from '../keys/curve.ts';
import { type CryptoLimits, resolveLimits, STORED_FORMAT_MAXIMA } from '../limits.ts';
import { type CryptoPrimitives, type Primitives, resolvePrimitives } from '../primitives/index.ts';
import { redactSecrets } from '../redact.ts';
import { xeddsaSignRaw, xeddsaVerifyRaw } from '../xeddsa.ts';
import {
  DISTRIBUTION_ID_LENGTH,
  decodeDistribution,
  encodeDistribution,
  encodeMessageHeader,
  parseSenderKeyMessage,
  type SenderKeyDistribution,
} from './messages.ts';

const RECORD_VERSION = 1;
const MAX_ITERATION = 0xffffffff;
/** libsignal sender_keys.rs SenderChainKey: next chain key = HMAC(ck, 0x02). */
const CHAIN_STEP = Uint8Array.of(0x02);

interface SenderChainState {
  chainId: number;
  /** Iteration the chain key below produces next. */
  iteration: number;
  chainKey: Uint8Array;
  signingPublic: Uint8Array;
  /** Present only in our own sending chain. */
  signingPrivate: Uint8Array | null;
  /** Message-key seeds for iterations skipped over, oldest first. */
  skipped: Map<number, Uint8Array>;
}

export interface SenderKeyOptions {
  /** Overrides of DEFAULT_CRYPTO_LIMITS for this record. */
  limits?: Partial<CryptoLimits> | undefined;
  /** The platform path it computes with (`primitivesByName`); default: the platform's best. */
  primitives?: CryptoPrimitives | undefined;
}

function randomChainId(): number {
  return globalThis.crypto.getRandomValues(new Uint32Array(1))[0]!;
}

/**
 * One sender's chains for one group (distribution id). Ours can encrypt; others' decrypt.
 * Operations are queued so concurrent calls never reuse an iteration.
 */
export class SenderKeyRecord {
  readonly distributionId: Uint8Array;
  #states: SenderChainState[];
  readonly #limits: CryptoLimits;
  readonly #primitives: Primitives;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(distributionId: Uint8Array, states: SenderChainState[], options: SenderKeyOptions) {
    this.distributionId = distributionId;
    this.#states = states;
    this.#limits = resolveLimits(options.limits);
    this.#primitives = resolvePrimitives(options.primitives);
  }

  /** Our own sender key for a group; `distributionId` is 16 bytes (a UUID), random when omitted. */
  static createForSending(
    distributionId: Uint8Array = globalThis.crypto.getRandomValues(new Uint8Array(DISTRIBUTION_ID_LENGTH)),
    options: SenderKeyOptions = {},
  ): SenderKeyRecord {
    expectBytes(distributionId, DISTRIBUTION_ID_LENGTH, 'distribution id');
    const record = new SenderKeyRecord(distributionId.slice(), [], options);
    record.#states = [SenderKeyRecord.#freshSendingState()];
    return record;
  }

  /** A peer's sender key, from the distribution message they sent over a 1:1 session. */
  static fromDistributionMessage(bytes: Uint8Array, options: SenderKeyOptions = {}): SenderKeyRecord {
    const d = decodeDistribution(bytes);
    const record = new SenderKeyRecord(d.distributionId, [], options);
    record.processDistributionMessage(bytes);
    return record;
  }

  static #freshSendingState(): SenderChainState {
    const signing = KeyPair.generate();
    return {
      chainId: randomChainId(),
      iteration: 0,
      chainKey: globalThis.crypto.getRandomValues(new Uint8Array(32)),
      signingPublic: signing.publicKey,
      signingPrivate: signing.exportPrivateKey(),
      skipped: new Map(),
    };
  }

  /** Whether this record holds our own sending chain. */
  get canSend(): boolean {
    return this.#states[0]?.signingPrivate != null;
  }

  /** The chain id messages are currently sent under (ours) or most recently received. */
  get chainId(): number {
    return this.#states[0]?.chainId ?? 0;
  }

  /**
   * Adds a peer's chain (a new member, or a sender's rotation). The same distribution again
   * (same chain id, chain key at the same or a later iteration of it, same signing key)
   * changes nothing; a known chain id with another key is refused (CRYPTO_INVALID_STATE),
   * never silently kept or replaced: two chains under one id would let one sender's
   * distribution shadow another's.
   */
  processDistributionMessage(bytes: Uint8Array): void {
    const d = decodeDistribution(bytes);
    if (!constantTimeEqual(d.distributionId, this.distributionId)) {
      throw new CryptoError(CryptoErrorCode.InvalidArgument, 'distribution message is for another group');
    }
    if (this.canSend) throw new CryptoError(CryptoErrorCode.InvalidState, 'cannot add a peer chain to our own record');
    const known = this.#states.find((s) => s.chainId === d.chainId);
    if (known) {
      if (this.#isSameChain(known, d)) return;
      throw new CryptoError(
        CryptoErrorCode.InvalidState,
        `sender key chain ${d.chainId} is already held with another key`,
      );
    }
    this.#states = [
      {
        chainId: d.chainId,
        iteration: d.iteration,
        chainKey: d.chainKey,
        signingPublic: d.signingKey,
        signingPrivate: null,
        skipped: new Map(),
      },
      ...this.#states,
    ].slice(0, this.#limits.maxSenderKeyStates);
  }

  /**
   * Whether a repeated distribution describes the chain we hold: same signing key, and one
   * chain key is the other advanced to its iteration (libsignal's chain step, HMAC(ck, 0x02)),
   * within maxSenderKeyForwardJumps steps. Computed with noble, synchronously: it is a
   * comparison, no key from it is used.
   */
  #isSameChain(known: SenderChainState, d: SenderKeyDistribution): boolean {
    if (!constantTimeEqual(known.signingPublic, d.signingKey)) return false;
    const [from, to] = d.iteration >= known.iteration ? [known, d] : [d, known];
    if (to.iteration - from.iteration > this.#limits.maxSenderKeyForwardJumps) return false;
    let chainKey = from.chainKey;
    for (let i = from.iteration; i < to.iteration; i++) chainKey = hmac(sha256, chainKey, CHAIN_STEP);
    return constantTimeEqual(chainKey, to.chainKey);
  }

  /** The distribution message for our current chain, to send over each member's 1:1 session. */
  createDistributionMessage(): Uint8Array {
    const s = this.#sendingState();
    return encodeDistribution({
      distributionId: this.distributionId,
      chainId: s.chainId,
      iteration: s.iteration,
      chainKey: s.chainKey,
      signingKey: s.signingPublic,
    });
  }

  /**
   * Replaces our sending chain with a fresh one (new chain key, signing key, chain id) and
   * returns its distribution message. Call after removing a member; send the result to the
   * remaining members only.
   */
  rotate(): Uint8Array {
    this.#sendingState();
    this.#states = [SenderKeyRecord.#freshSendingState()];
    return this.createDistributionMessage();
  }

  encrypt(plaintext: Uint8Array): Promise<Uint8Array> {
    return this.#serialized(async () => {
      expectBytes(plaintext, undefined, 'plaintext');
      if (plaintext.length > this.#limits.maxPlaintextBytes) {
        throw new CryptoError(CryptoErrorCode.InvalidArgument, 'plaintext exceeds maxPlaintextBytes');
      }
      const s = this.#sendingState();
      if (s.iteration >= MAX_ITERATION) throw new CryptoError(CryptoErrorCode.InvalidState, 'sender chain exhausted');
      const { chainKey, messageKey } = await kdfChainKey(this.#primitives, s.chainKey);
      const iteration = s.iteration;
      s.chainKey = chainKey;
      s.iteration = iteration + 1;
      const header = encodeMessageHeader(this.distributionId, s.chainId, iteration);
      const { cipherKey, iv } = await senderMessageKeys(this.#primitives, messageKey);
      const ciphertext = await this.#primitives.aesCbcEncrypt(cipherKey, iv, plaintext);
      const signed = concatBytes(header, ciphertext);
      return concatBytes(signed, xeddsaSignRaw(s.signingPrivate!, signed));
    });
  }

  /** Verifies the signature first, then decrypts; refuses duplicates and unknown chains. */
  decrypt(message: Uint8Array): Promise<Uint8Array> {
    return this.#serialized(async () => {
      const m = parseSenderKeyMessage(expectBytes(message, undefined, 'message'), this.#limits);
      if (!constantTimeEqual(m.distributionId, this.distributionId)) {
        throw new CryptoError(CryptoErrorCode.InvalidArgument, 'message is for another group');
      }
      const s = this.#states.find((state) => state.chainId === m.chainId);
      if (!s) throw new CryptoError(CryptoErrorCode.UnknownSenderKey, `no sender key chain ${m.chainId}`);
      if (!xeddsaVerifyRaw(s.signingPublic, m.signed, m.signature)) {
        throw new CryptoError(CryptoErrorCode.BadSignature, 'group message signature does not verify');
      }
      if (m.iteration < s.iteration) {
        const seed = s.skipped.get(m.iteration);
        if (!seed) throw new CryptoError(CryptoErrorCode.DuplicateMessage, 'group message key already used');
        const plaintext = await this.#open(seed, m.ciphertext);
        s.skipped.delete(m.iteration);
        return plaintext;
      }
      if (m.iteration - s.iteration > this.#limits.maxSenderKeyForwardJumps) {
        throw new CryptoError(CryptoErrorCode.TooManySkipped, 'group message jumps too far ahead');
      }
      const newSkipped: Array<[number, Uint8Array]> = [];
      let chainKey = s.chainKey;
      for (let i = s.iteration; i < m.iteration; i++) {
        const step = await kdfChainKey(this.#primitives, chainKey);
        newSkipped.push([i, step.messageKey]);
        chainKey = step.chainKey;
      }
      const step = await kdfChainKey(this.#primitives, chainKey);
      const plaintext = await this.#open(step.messageKey, m.ciphertext);
      for (const [i, seed] of newSkipped) s.skipped.set(i, seed);
      while (s.skipped.size > this.#limits.maxSenderKeyStoredKeys)
        s.skipped.delete(s.skipped.keys().next().value as number);
      s.chainKey = step.chainKey;
      s.iteration = m.iteration + 1;
      return plaintext;
    });
  }

  /** Only ever called after the signature over the message verified. */
  async #open(seed: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array> {
    const { cipherKey, iv } = await senderMessageKeys(this.#primitives, seed);
    return this.#primitives.aesCbcDecrypt(cipherKey, iv, ciphertext);
  }

  #sendingState(): SenderChainState {
    const s = this.#states[0];
    if (!s?.signingPrivate) throw new CryptoError(CryptoErrorCode.InvalidState, 'not our sender key: cannot send');
    return s;
  }

  #serialized<T>(op: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(op);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  serialize(): Uint8Array {
    const w = new ByteWriter().u8(RECORD_VERSION).raw(this.distributionId).u32(this.#states.length);
    for (const s of this.#states) {
      w.u32(s.chainId).u32(s.iteration).raw(s.chainKey).raw(s.signingPublic);
      if (s.signingPrivate) w.u8(1).raw(s.signingPrivate);
      else w.u8(0);
      w.u32(s.skipped.size);
      for (const [i, seed] of s.skipped) w.u32(i).raw(seed);
    }
    return w.finish();
  }

  /**
   * Restores serialize()'s bytes, checking meaning as well as shape: signing keys are valid
   * points and a private signing key matches its public half, chain ids are distinct, flags
   * are 0 or 1, skipped iterations lie before the chain's. Past a (lowered) limit the oldest
   * chains and skipped keys are dropped; only counts beyond STORED_FORMAT_MAXIMA are refused.
   */
  static deserialize(bytes: Uint8Array, options: SenderKeyOptions = {}): SenderKeyRecord {
    const limits = resolveLimits(options.limits);
    const malformed = (what: string) => new CryptoError(CryptoErrorCode.MalformedMessage, `sender key record: ${what}`);
    const r = new ByteReader(bytes, 'sender key record');
    const version = r.u8();
    if (version !== RECORD_VERSION)
      throw new CryptoError(CryptoErrorCode.UnsupportedVersion, `sender key record version ${version}`);
    const distributionId = r.raw(DISTRIBUTION_ID_LENGTH);
    const count = r.u32();
    if (count > STORED_FORMAT_MAXIMA.senderKeyStates) throw malformed('too many sender chains');
    const states: SenderChainState[] = [];
    for (let k = 0; k < count; k++) {
      const chainId = r.u32();
      const iteration = r.u32();
      const chainKey = r.raw(32);
      const signingPublic = r.raw(32);
      if (isLowOrderPoint(signingPublic)) throw malformed('signing key is a low-order point');
      const hasPrivate = r.u8();
      if (hasPrivate > 1) throw malformed('bad flag');
      const signingPrivate = hasPrivate === 1 ? r.raw(32) : null;
      if (signingPrivate) {
        if (k !== 0) throw malformed('a private signing key outside the sending chain');
        const clamped = clampPrivateKey(signingPrivate);
        if (!constantTimeEqual(x25519PublicKeyOf(clamped), signingPublic)) {
          throw malformed('signing public key does not match its private key');
        }
      }
      const skippedCount = r.u32();
      if (skippedCount > STORED_FORMAT_MAXIMA.senderKeyStoredKeys) throw malformed('too many skipped group keys');
      const skipped = new Map<number, Uint8Array>();
      for (let i = 0; i < skippedCount; i++) {
        const skippedIteration = r.u32();
        if (skippedIteration >= iteration) throw malformed('a skipped key at or after the chain iteration');
        skipped.set(skippedIteration, r.raw(32));
      }
      for (const i of [...skipped.keys()].slice(0, Math.max(0, skipped.size - limits.maxSenderKeyStoredKeys))) {
        skipped.delete(i);
      }
      if (states.some((s) => s.chainId === chainId)) throw malformed('a chain id appears twice');
      states.push({ chainId, iteration, chainKey, signingPublic, signingPrivate, skipped });
    }
    r.end();
    // Most recent first: keep the newest maxSenderKeyStates.
    return new SenderKeyRecord(distributionId, states.slice(0, limits.maxSenderKeyStates), options);
  }
}
redactSecrets(SenderKeyRecord, (self: SenderKeyRecord) => `distributionId: ${toHex(self.distributionId)}`);
