/**
 * A 1:1 Double Ratchet session (Signal Double Ratchet spec rev. 4) started by PQXDH.
 * Internal: callers reach sessions through SessionRecord, the one public way to encrypt
 * and decrypt 1:1 messages, which runs one operation at a time on its sessions (a session
 * is not reentrant: two overlapping calls could reuse a chain key). Decryption works on a
 * copy of the state and returns the plaintext with a `commit` to apply once the caller is
 * satisfied (the MAC verified; the record's identity check passed): a forged or refused
 * message changes nothing (spec §3.5 note). Messages use libsignal's construction:
 * AES-256-CBC, then an 8-byte HMAC-SHA-256 over both identities and the message.
 */
import { concatBytes, constantTimeEqual, expectBytes, toHex } from '../bytes.ts';
import { dh } from '../dh.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { kdfChainKey, kdfRootKey, messageKeys, messageMac } from '../kdf.ts';
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

/**
 * What one incoming message may still cost before its MAC is checked, shared by every
 * session the record tries it on (limits.maxDerivationsPerMessage, maxRatchetStepsPerMessage).
 */
export interface DecryptBudget {
  derivations: number;
  ratchetSteps: number;
}

export function decryptBudget(limits: CryptoLimits): DecryptBudget {
  return { derivations: limits.maxDerivationsPerMessage, ratchetSteps: limits.maxRatchetStepsPerMessage };
}

/** A decrypted message whose effects on the session are not applied yet. */
export interface PendingDecrypt {
  plaintext: Uint8Array;
  /** Applies the state change (chain advanced, key consumed); call at most once, right away. */
  commit(): void;
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
  ): Promise<{ session: Session; pending: PendingDecrypt; consumePreKeys: () => Promise<void> }> {
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
    const pending = await session.#decryptParsed(parsed, decryptBudget(context.limits));
    const consumePreKeys = async () => {
      // PQXDH §4.2 (replay): only an initial message that used no one-time key (EC or PQ)
      // can be replayed; libsignal records those as (signed prekey, PQ prekey, base key).
      const pq = preKey.pqPreKeyId !== undefined ? await prekeys.getPqPreKey(preKey.pqPreKeyId) : undefined;
      const replayable = preKey.oneTimePreKeyId === undefined && (pq === undefined || pq.lastResort);
      if (replayable) {
        const fresh = await prekeys.markPreKeysUsed({
          signedPreKeyId: preKey.signedPreKeyId,
          pqPreKeyId: preKey.pqPreKeyId,
          baseKey: preKey.baseKey,
        });
        if (!fresh) {
          throw new CryptoError(
            CryptoErrorCode.DuplicateMessage,
            'initial message was already used to build a session',
          );
        }
      }
      if (preKey.oneTimePreKeyId !== undefined) await prekeys.removeOneTimePreKey(preKey.oneTimePreKeyId);
      if (pq && !pq.lastResort) await prekeys.removePqPreKey(pq.keyId);
    };
    return { session, pending, consumePreKeys };
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
    const p = this.#primitives;
    const keys = await messageKeys(p, messageKey);
    const body = concatBytes(headerBytes, await p.aesCbcEncrypt(keys.cipherKey, keys.iv, plaintext));
    const mac = await messageMac(p, keys.macKey, s.localIdentityKey, s.remoteIdentityKey, body);
    return concatBytes(body, mac);
  }

  /**
   * Double Ratchet §3.5 RatchetDecrypt of a parsed message, refusing duplicates, replays and
   * forgeries; nothing changes until the caller commits.
   */
  async decrypt(parsed: ParsedSessionMessage, budget: DecryptBudget): Promise<PendingDecrypt> {
    if (parsed.preKey && !constantTimeEqual(parsed.preKey.baseKey, this.#state.baseKey)) {
      throw new CryptoError(CryptoErrorCode.InvalidState, 'initial message belongs to another session');
    }
    return this.#decryptParsed(parsed, budget);
  }

  /** True when decrypting `parsed` would take a DH ratchet step (a chain this session has not seen). */
  needsRatchetStep(parsed: ParsedSessionMessage): boolean {
    const s = this.#state;
    const ratchetHex = toHex(parsed.header.ratchetKey);
    if (s.receivingRatchetKey !== null && toHex(s.receivingRatchetKey) === ratchetHex) return false;
    if (s.skipped.has(skippedKeyId(ratchetHex, parsed.header.counter))) return false;
    return !s.previousRemoteRatchetKeys.includes(ratchetHex);
  }

  /** Checks the MAC (constant time) and only then decrypts: encrypt-then-MAC. */
  async #open(messageKey: Uint8Array, parsed: ParsedSessionMessage): Promise<Uint8Array> {
    const p = this.#primitives;
    const keys = await messageKeys(p, messageKey);
    const s = this.#state;
    const expected = await messageMac(p, keys.macKey, s.remoteIdentityKey, s.localIdentityKey, parsed.authenticated);
    if (!constantTimeEqual(expected, parsed.mac)) {
      throw new CryptoError(CryptoErrorCode.DecryptFailed, 'message MAC did not verify');
    }
    return p.aesCbcDecrypt(keys.cipherKey, keys.iv, parsed.ciphertext);
  }

  async #decryptParsed(parsed: ParsedSessionMessage, budget: DecryptBudget): Promise<PendingDecrypt> {
    const s = this.#state;
    const { ratchetKey, counter, previousCounter } = parsed.header;
    const ratchetHex = toHex(ratchetKey);

    // §3.5 TrySkippedMessageKeys: a stored key is deleted once it has served.
    const skippedId = skippedKeyId(ratchetHex, counter);
    const storedKey = s.skipped.get(skippedId);
    if (storedKey) {
      const plaintext = await this.#open(storedKey, parsed);
      return {
        plaintext,
        commit: () => {
          this.#state.skipped.delete(skippedId);
          this.#heardFromPeer(parsed);
        },
      };
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
      // The rest of the old chain: its keys are stored for late messages, unless there are more than
      // maxSkip of them; then that chain is abandoned (its late messages are lost) rather than the
      // session: refusing would refuse every later chain too, since each names the same old one.
      if (next.receivingChainKey && previousCounter - next.receivingCounter <= this.#limits.maxSkip) {
        await this.#skipMessageKeys(next, previousCounter, newSkipped, budget);
      }
      await this.#dhRatchet(next, ratchetKey, budget);
    }
    await this.#skipMessageKeys(next, counter, newSkipped, budget);
    const { chainKey, messageKey } = await kdfChainKey(this.#primitives, next.receivingChainKey!);
    next.receivingChainKey = chainKey;
    next.receivingCounter = counter + 1;
    const plaintext = await this.#open(messageKey, parsed);

    // The MAC verified, so the header was genuine: this is what commit applies.
    return {
      plaintext,
      commit: () => {
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
      },
    };
  }

  /** Any authenticated message proves the peer holds the session: stop sending the prekey header. */
  #heardFromPeer(parsed: ParsedSessionMessage): void {
    if (this.#state.pendingPreKey && parsed.type === MessageType.Normal) {
      this.#state = { ...this.#state, pendingPreKey: null };
    }
  }

  /** §3.5 SkipMessageKeys(state, until), collecting keys into `out` rather than the state. */
  async #skipMessageKeys(
    state: SessionState,
    until: number,
    out: Array<[string, Uint8Array]>,
    budget: DecryptBudget,
  ): Promise<void> {
    if (!state.receivingChainKey || !state.receivingRatchetKey) return;
    const steps = until - state.receivingCounter;
    if (steps > this.#limits.maxSkip) {
      throw new CryptoError(CryptoErrorCode.TooManySkipped, `message skips more than ${this.#limits.maxSkip} keys`);
    }
    if (steps > budget.derivations) {
      throw new CryptoError(
        CryptoErrorCode.WorkLimit,
        'message needs more key derivations than maxDerivationsPerMessage',
      );
    }
    if (steps > 0) budget.derivations -= steps;
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
  async #dhRatchet(state: SessionState, remoteRatchetKey: Uint8Array, budget: DecryptBudget): Promise<void> {
    if (budget.ratchetSteps <= 0) {
      throw new CryptoError(
        CryptoErrorCode.WorkLimit,
        'message needs more DH ratchet steps than maxRatchetStepsPerMessage',
      );
    }
    budget.ratchetSteps--;
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
