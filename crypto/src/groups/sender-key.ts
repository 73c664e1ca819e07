/**
 * Sender Keys (Signal's group messaging scheme, libsignal rust/protocol/src/group_cipher.rs):
 * each member has, per group, a sender chain (chain key + signing key). Its distribution
 * message travels to the others over the 1:1 sessions. Every group message advances the
 * chain (HMAC 0x01 / 0x02, forward secrecy) and is XEdDSA-signed by the sender's signing
 * key, so members cannot forge each other's messages. After a member is removed every
 * remaining sender calls rotate() and redistributes: the removed member never gets the new chain.
 */
import { concatBytes, constantTimeEqual, expectBytes, toHex } from '../bytes.ts';
import { ByteReader, ByteWriter } from '../codec.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { kdfChainKey, senderMessageKeyMaterial } from '../kdf.ts';
import { KeyPair } from '../keys/curve.ts';
import { type CryptoLimits, resolveLimits } from '../limits.ts';
import { type CryptoPrimitives, type Primitives, resolvePrimitives } from '../primitives/index.ts';
import { redactSecrets } from '../redact.ts';
import { xeddsaSignRaw, xeddsaVerifyRaw } from '../xeddsa.ts';
import {
  DISTRIBUTION_ID_LENGTH,
  decodeDistribution,
  encodeDistribution,
  encodeMessageHeader,
  parseSenderKeyMessage,
} from './messages.ts';

const RECORD_VERSION = 1;
const MAX_ITERATION = 0xffffffff;

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

  /** Adds a peer's chain (a new member, or a sender's rotation). Repeats are ignored. */
  processDistributionMessage(bytes: Uint8Array): void {
    const d = decodeDistribution(bytes);
    if (!constantTimeEqual(d.distributionId, this.distributionId)) {
      throw new CryptoError(CryptoErrorCode.InvalidArgument, 'distribution message is for another group');
    }
    if (this.canSend) throw new CryptoError(CryptoErrorCode.InvalidState, 'cannot add a peer chain to our own record');
    if (this.#states.some((s) => s.chainId === d.chainId)) return;
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
      const { key, nonce } = await senderMessageKeyMaterial(this.#primitives, messageKey);
      const ciphertext = await this.#primitives.aesGcmEncrypt(key, nonce, plaintext, header);
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
        const plaintext = await this.#open(seed, m.header, m.ciphertext);
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
      const plaintext = await this.#open(step.messageKey, m.header, m.ciphertext);
      for (const [i, seed] of newSkipped) s.skipped.set(i, seed);
      while (s.skipped.size > this.#limits.maxSenderKeyStoredKeys)
        s.skipped.delete(s.skipped.keys().next().value as number);
      s.chainKey = step.chainKey;
      s.iteration = m.iteration + 1;
      return plaintext;
    });
  }

  async #open(seed: Uint8Array, header: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array> {
    const { key, nonce } = await senderMessageKeyMaterial(this.#primitives, seed);
    return this.#primitives.aesGcmDecrypt(key, nonce, ciphertext, header);
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

  static deserialize(bytes: Uint8Array, options: SenderKeyOptions = {}): SenderKeyRecord {
    const limits = resolveLimits(options.limits);
    const r = new ByteReader(bytes, 'sender key record');
    const version = r.u8();
    if (version !== RECORD_VERSION)
      throw new CryptoError(CryptoErrorCode.UnsupportedVersion, `sender key record version ${version}`);
    const distributionId = r.raw(DISTRIBUTION_ID_LENGTH);
    const count = r.u32();
    if (count > limits.maxSenderKeyStates)
      throw new CryptoError(CryptoErrorCode.MalformedMessage, 'too many sender chains');
    const states: SenderChainState[] = [];
    for (let k = 0; k < count; k++) {
      const chainId = r.u32();
      const iteration = r.u32();
      const chainKey = r.raw(32);
      const signingPublic = r.raw(32);
      const hasPrivate = r.u8();
      const signingPrivate = hasPrivate === 1 ? r.raw(32) : null;
      const skippedCount = r.u32();
      if (skippedCount > limits.maxSenderKeyStoredKeys) {
        throw new CryptoError(CryptoErrorCode.MalformedMessage, 'too many skipped group keys');
      }
      const skipped = new Map<number, Uint8Array>();
      for (let i = 0; i < skippedCount; i++) skipped.set(r.u32(), r.raw(32));
      states.push({ chainId, iteration, chainKey, signingPublic, signingPrivate, skipped });
    }
    r.end();
    return new SenderKeyRecord(distributionId, states, options);
  }
}
redactSecrets(SenderKeyRecord, (self: SenderKeyRecord) => `distributionId: ${toHex(self.distributionId)}`);
