/**
 * A 1:1 Double Ratchet session (Signal Double Ratchet spec rev. 4) started by PQXDH.
 * Internal: callers reach sessions through SessionRecord, the one public way to encrypt
 * and decrypt 1:1 messages, which runs one operation at a time on its sessions (a session
 * is not reentrant: two overlapping calls could reuse a chain key). Decryption works on a
 * copy of the state and commits only after the AEAD tag verifies: a forged message changes
 * nothing (spec §3.5 note).
 */
import { concatBytes, constantTimeEqual, expectBytes, toHex } from '../bytes.ts';
import { dh } from '../dh.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { kdfChainKey, kdfRootKey, messageKeyMaterial } from '../kdf.ts';
import type { IdentityKeyPair } from '../keys/identity.ts';
import type { PreKeyBundle } from '../keys/prekeys.ts';
import type { CryptoLimits } from '../limits.ts';
import type { Primitives } from '../primitives/index.ts';
import { redactSecrets } from '../redact.ts';
import type { PrekeyStore } from '../store.ts';
import { type AgreementOptions, initiatorAgreement, responderAgreement } from '../x3dh.ts';
import { encodeHeaderBytes, MessageType, type ParsedSessionMessage } from './message.ts';
import { deserializeState, type SessionState, serializeState, skippedKeyId } from './state.ts';

/** What a session computes with and within, fixed when it is made: its record's choice. */
export interface SessionContext {
  readonly limits: CryptoLimits;
  readonly primitives: Primitives;
}

const MAX_COUNTER = 0xffffffff;

export class Session {
  #state: SessionState;
  readonly #limits: CryptoLimits;
  readonly #primitives: Primitives;

  private constructor(state: SessionState, context: SessionContext) {
    this.#state = state;
    this.#limits = context.limits;
    this.#primitives = context.primitives;
  }

  /**
   * Alice: verify Bob's bundle, run PQXDH (X3DH §3.3 / PQXDH §3.3) and the Double
   * Ratchet's RatchetInitAlice (§3.3). Messages carry the prekey header until Bob replies.
   */
  static async initiate(
    ourIdentity: IdentityKeyPair,
    bundle: PreKeyBundle,
    context: SessionContext,
    options: AgreementOptions = {},
  ): Promise<Session> {
    const p = context.primitives;
    const agreement = await initiatorAgreement(p, ourIdentity, bundle, options);
    const sending = await p.generateX25519();
    const { rootKey, chainKey } = await kdfRootKey(
      p,
      agreement.sharedSecret,
      await dh(p, sending, agreement.remoteSignedPreKey),
    );
    return new Session(
      {
        localIdentityKey: ourIdentity.publicKey.slice(),
        remoteIdentityKey: agreement.remoteIdentityKey.slice(),
        associatedData: concatBytes(ourIdentity.publicKey, agreement.remoteIdentityKey),
        baseKey: agreement.header.baseKey,
        rootKey,
        sendingPrivate: sending.privateKey,
        sendingPublic: sending.publicKey,
        sendingChainKey: chainKey,
        sendingCounter: 0,
        previousSendingCounter: 0,
        receivingRatchetKey: agreement.remoteSignedPreKey,
        receivingChainKey: null,
        receivingCounter: 0,
        skipped: new Map(),
        previousRemoteRatchetKeys: [],
        pendingPreKey: agreement.header,
      },
      context,
    );
  }

  /**
   * Bob: build a session from an initial (prekey) message (X3DH §3.4, PQXDH §3.4,
   * RatchetInitBob §3.3) and decrypt it. Prekeys are consumed only after it decrypts.
   */
  static async accept(
    ourIdentity: IdentityKeyPair,
    prekeys: PrekeyStore,
    parsed: ParsedSessionMessage,
    context: SessionContext,
    options: AgreementOptions = {},
  ): Promise<{ session: Session; plaintext: Uint8Array }> {
    const preKey = parsed.preKey;
    if (!preKey) throw new CryptoError(CryptoErrorCode.InvalidState, 'not an initial message and no session exists');
    const agreement = await responderAgreement(context.primitives, ourIdentity, prekeys, preKey, options);
    const session = new Session(
      {
        localIdentityKey: ourIdentity.publicKey.slice(),
        remoteIdentityKey: preKey.identityKey,
        associatedData: concatBytes(preKey.identityKey, ourIdentity.publicKey),
        baseKey: preKey.baseKey,
        rootKey: agreement.sharedSecret,
        sendingPrivate: agreement.signedPreKeyPrivate,
        sendingPublic: agreement.signedPreKeyPublic,
        sendingChainKey: null,
        sendingCounter: 0,
        previousSendingCounter: 0,
        receivingRatchetKey: null,
        receivingChainKey: null,
        receivingCounter: 0,
        skipped: new Map(),
        previousRemoteRatchetKeys: [],
        pendingPreKey: null,
      },
      context,
    );
    const plaintext = await session.#decryptParsed(parsed);
    if (!(await prekeys.markBaseKeyUsed(preKey.baseKey))) {
      throw new CryptoError(CryptoErrorCode.DuplicateMessage, 'initial message was already used to build a session');
    }
    if (preKey.oneTimePreKeyId !== undefined) await prekeys.removeOneTimePreKey(preKey.oneTimePreKeyId);
    if (preKey.pqPreKeyId !== undefined) {
      const pq = await prekeys.getPqPreKey(preKey.pqPreKeyId);
      if (pq && !pq.lastResort) await prekeys.removePqPreKey(preKey.pqPreKeyId);
    }
    return { session, plaintext };
  }

  /** Restores a session from serialize(); the result behaves exactly as the original. */
  static deserialize(bytes: Uint8Array, context: SessionContext): Session {
    return new Session(deserializeState(bytes, context.limits.maxStoredSkippedKeys), context);
  }

  /** Versioned bytes holding the whole state, secrets included: store them encrypted at rest. */
  serialize(): Uint8Array {
    return serializeState(this.#state);
  }

  get localIdentityKey(): Uint8Array {
    return this.#state.localIdentityKey.slice();
  }

  /** The peer's 33-byte identity key: compare it with the trusted one (safety numbers). */
  get remoteIdentityKey(): Uint8Array {
    return this.#state.remoteIdentityKey.slice();
  }

  /** The initiator's ephemeral key, shared by all initial messages of this session. */
  get baseKey(): Uint8Array {
    return this.#state.baseKey.slice();
  }

  /** True while this (initiating) side has not yet heard back: its messages carry the prekey header. */
  get awaitingReply(): boolean {
    return this.#state.pendingPreKey !== null;
  }

  /** Number of stored skipped message keys (bounded by limits.maxStoredSkippedKeys). */
  get skippedKeyCount(): number {
    return this.#state.skipped.size;
  }

  /** Double Ratchet §3.4 RatchetEncrypt. */
  async encrypt(plaintext: Uint8Array): Promise<Uint8Array> {
    expectBytes(plaintext, undefined, 'plaintext');
    if (plaintext.length > this.#limits.maxPlaintextBytes) {
      throw new CryptoError(CryptoErrorCode.InvalidArgument, 'plaintext exceeds maxPlaintextBytes');
    }
    const s = this.#state;
    if (!s.sendingChainKey) throw new CryptoError(CryptoErrorCode.InvalidState, 'session has no sending chain yet');
    if (s.sendingCounter >= MAX_COUNTER) throw new CryptoError(CryptoErrorCode.InvalidState, 'sending chain exhausted');
    const { chainKey, messageKey } = await kdfChainKey(this.#primitives, s.sendingChainKey);
    const counter = s.sendingCounter;
    // Advance before encrypting: a key is never used twice even if encryption throws.
    this.#state = { ...s, sendingChainKey: chainKey, sendingCounter: counter + 1 };
    const headerBytes = encodeHeaderBytes(
      { ratchetKey: s.sendingPublic, previousCounter: s.previousSendingCounter, counter },
      s.pendingPreKey ?? undefined,
    );
    const { key, nonce } = await messageKeyMaterial(this.#primitives, messageKey);
    const ciphertext = await this.#primitives.aesGcmEncrypt(
      key,
      nonce,
      plaintext,
      concatBytes(s.associatedData, headerBytes),
    );
    return concatBytes(headerBytes, ciphertext);
  }

  /** Double Ratchet §3.5 RatchetDecrypt of a parsed message, refusing duplicates, replays and forgeries. */
  async decrypt(parsed: ParsedSessionMessage): Promise<Uint8Array> {
    if (parsed.preKey && !constantTimeEqual(parsed.preKey.baseKey, this.#state.baseKey)) {
      throw new CryptoError(CryptoErrorCode.InvalidState, 'initial message belongs to another session');
    }
    return this.#decryptParsed(parsed);
  }

  async #open(messageKey: Uint8Array, parsed: ParsedSessionMessage): Promise<Uint8Array> {
    const { key, nonce } = await messageKeyMaterial(this.#primitives, messageKey);
    const aad = concatBytes(this.#state.associatedData, parsed.headerBytes);
    return this.#primitives.aesGcmDecrypt(key, nonce, parsed.ciphertext, aad);
  }

  async #decryptParsed(parsed: ParsedSessionMessage): Promise<Uint8Array> {
    const s = this.#state;
    const { ratchetKey, counter, previousCounter } = parsed.header;
    const ratchetHex = toHex(ratchetKey);

    // §3.5 TrySkippedMessageKeys: a stored key is deleted once it has served.
    const skippedId = skippedKeyId(ratchetHex, counter);
    const storedKey = s.skipped.get(skippedId);
    if (storedKey) {
      const plaintext = await this.#open(storedKey, parsed);
      this.#state.skipped.delete(skippedId);
      this.#heardFromPeer(parsed);
      return plaintext;
    }

    const next: SessionState = { ...s };
    const newSkipped: Array<[string, Uint8Array]> = [];
    const isCurrentChain = s.receivingRatchetKey !== null && toHex(s.receivingRatchetKey) === ratchetHex;
    if (isCurrentChain) {
      if (!s.receivingChainKey) throw new CryptoError(CryptoErrorCode.DecryptFailed, 'no receiving chain for this key');
      if (counter < s.receivingCounter) {
        throw new CryptoError(CryptoErrorCode.DuplicateMessage, 'message key already used (duplicate or replay)');
      }
    } else {
      if (s.previousRemoteRatchetKeys.includes(ratchetHex)) {
        throw new CryptoError(CryptoErrorCode.DuplicateMessage, 'message from a past chain was already handled');
      }
      if (next.receivingChainKey) await this.#skipMessageKeys(next, previousCounter, newSkipped);
      await this.#dhRatchet(next, ratchetKey);
    }
    await this.#skipMessageKeys(next, counter, newSkipped);
    const { chainKey, messageKey } = await kdfChainKey(this.#primitives, next.receivingChainKey!);
    next.receivingChainKey = chainKey;
    next.receivingCounter = counter + 1;
    const plaintext = await this.#open(messageKey, parsed);

    // Commit: the tag verified, so the header was genuine.
    const skipped = s.skipped;
    for (const [id, mk] of newSkipped) skipped.set(id, mk);
    while (skipped.size > this.#limits.maxStoredSkippedKeys) {
      skipped.delete(skipped.keys().next().value as string);
    }
    next.skipped = skipped;
    if (!isCurrentChain && s.receivingRatchetKey) {
      next.previousRemoteRatchetKeys = [...s.previousRemoteRatchetKeys, toHex(s.receivingRatchetKey)].slice(
        -this.#limits.maxPreviousRatchetKeys,
      );
    }
    this.#state = next;
    this.#heardFromPeer(parsed);
    return plaintext;
  }

  /** Any authenticated message proves the peer holds the session: stop sending the prekey header. */
  #heardFromPeer(parsed: ParsedSessionMessage): void {
    if (this.#state.pendingPreKey && parsed.type === MessageType.Normal) {
      this.#state = { ...this.#state, pendingPreKey: null };
    }
  }

  /** §3.5 SkipMessageKeys(state, until), collecting keys into `out` rather than the state. */
  async #skipMessageKeys(state: SessionState, until: number, out: Array<[string, Uint8Array]>): Promise<void> {
    if (!state.receivingChainKey || !state.receivingRatchetKey) return;
    if (until - state.receivingCounter > this.#limits.maxSkip) {
      throw new CryptoError(CryptoErrorCode.TooManySkipped, `message skips more than ${this.#limits.maxSkip} keys`);
    }
    const ratchetHex = toHex(state.receivingRatchetKey);
    let chainKey = state.receivingChainKey;
    for (let n = state.receivingCounter; n < until; n++) {
      const step = await kdfChainKey(this.#primitives, chainKey);
      out.push([skippedKeyId(ratchetHex, n), step.messageKey]);
      chainKey = step.chainKey;
    }
    state.receivingChainKey = chainKey;
    if (until > state.receivingCounter) state.receivingCounter = until;
  }

  /** §3.5 DHRatchet(state, header). */
  async #dhRatchet(state: SessionState, remoteRatchetKey: Uint8Array): Promise<void> {
    state.previousSendingCounter = state.sendingCounter;
    state.sendingCounter = 0;
    state.receivingCounter = 0;
    state.receivingRatchetKey = remoteRatchetKey;
    const p = this.#primitives;
    const receiving = await kdfRootKey(
      p,
      state.rootKey,
      await dh(p, { privateKey: state.sendingPrivate, publicKey: state.sendingPublic }, remoteRatchetKey),
    );
    state.receivingChainKey = receiving.chainKey;
    const fresh = await p.generateX25519();
    state.sendingPrivate = fresh.privateKey;
    state.sendingPublic = fresh.publicKey;
    const sending = await kdfRootKey(p, receiving.rootKey, await dh(p, fresh, remoteRatchetKey));
    state.rootKey = sending.rootKey;
    state.sendingChainKey = sending.chainKey;
  }
}
redactSecrets(Session, (self: Session) => `remoteIdentityKey: ${toHex(self.remoteIdentityKey)}`);
