/**
 * All sessions with one peer device: the current one and a few archived ones, as
 * libsignal's SessionRecord keeps them (rust/protocol/src/state/session.rs). The one public
 * way to encrypt and decrypt 1:1 messages. Archived sessions are needed when both sides
 * initiate at once, or a peer re-initiates: each side then holds two sessions for a while,
 * and a message decrypts with whichever it belongs to; that session becomes current, so
 * both sides converge on one. Decryption attempts never change a session they fail on.
 * Operations are queued: one runs at a time, so no chain key is ever used twice.
 * The caller's identity check (identity-trust.ts) is consulted before a session is built
 * or takes over, as libsignal's session_cipher.rs consults is_trusted_identity.
 */
import { constantTimeEqual, expectBytes } from '../bytes.ts';
import { ByteReader, ByteWriter } from '../codec.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import type { IdentityKeyPair } from '../keys/identity.ts';
import type { PreKeyBundle } from '../keys/prekeys.ts';
import { type CryptoLimits, resolveLimits, STORED_FORMAT_MAXIMA } from '../limits.ts';
import { type CryptoPrimitives, resolvePrimitives } from '../primitives/index.ts';
import { redactSecrets } from '../redact.ts';
import type { PrekeyStore } from '../store.ts';
import type { AgreementOptions } from '../x3dh.ts';
import { Direction, type IdentityTrustOptions, requireTrustedIdentity } from './identity-trust.ts';
import { type ParsedSessionMessage, parseSessionMessage } from './message.ts';
import { type DecryptBudget, decryptBudget, type PendingDecrypt, Session, type SessionContext } from './session.ts';
import { type SessionInfo, SessionView } from './session-info.ts';

const RECORD_VERSION = 1;
const MAX_SESSION_BYTES = 1 << 20;

export interface SessionRecordOptions extends IdentityTrustOptions {
  /** Overrides of DEFAULT_CRYPTO_LIMITS for this record and its sessions. */
  limits?: Partial<CryptoLimits> | undefined;
  /** The platform path its sessions compute with (`primitivesByName`); default: the platform's best. */
  primitives?: CryptoPrimitives | undefined;
}

/** Per call: the agreement's options, and an identity check that overrides the record's. */
export interface SessionOperationOptions extends AgreementOptions, IdentityTrustOptions {}

export interface DecryptResult {
  plaintext: Uint8Array;
  /** The session that decrypted it, now current. Check `remoteIdentityKey` against the identity you trust. */
  session: SessionInfo;
  /** True when the message was an initial message that built a new session. */
  isNewSession: boolean;
}

export class SessionRecord {
  /** Most recent first; index 0 is the current session. */
  #sessions: Session[];
  readonly #context: SessionContext;
  readonly #isTrustedIdentity: IdentityTrustOptions['isTrustedIdentity'];
  readonly #views = new WeakMap<Session, SessionInfo>();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: SessionRecordOptions = {}) {
    this.#sessions = [];
    this.#context = { limits: resolveLimits(options.limits), primitives: resolvePrimitives(options.primitives) };
    this.#isTrustedIdentity = options.isTrustedIdentity;
  }

  /**
   * A record holding one session stored on its own, as sessions were before records existed
   * (the bytes of `SessionInfo.serialize()`), as its current session.
   */
  static fromSerializedSession(bytes: Uint8Array, options: SessionRecordOptions = {}): SessionRecord {
    const record = new SessionRecord(options);
    record.#sessions.push(Session.deserialize(bytes, record.#context));
    return record;
  }

  /** The session new messages are encrypted with, if any. */
  get current(): SessionInfo | undefined {
    const session = this.#sessions[0];
    return session && this.#view(session);
  }

  /** Number of sessions held (current + archived). */
  get size(): number {
    return this.#sessions.length;
  }

  /**
   * Starts a new session from a bundle (PQXDH) and makes it current; the old one is archived.
   * Refuses with CRYPTO_UNTRUSTED_IDENTITY, before any work, when the identity check (Sending)
   * refuses the bundle's identity key.
   */
  initiate(
    ourIdentity: IdentityKeyPair,
    bundle: PreKeyBundle,
    options: SessionOperationOptions = {},
  ): Promise<SessionInfo> {
    return this.#serialized(async () => {
      await requireTrustedIdentity(this.#trustCheck(options), bundle.identityKey, Direction.Sending);
      const session = await Session.initiate(ourIdentity, bundle, this.#context, options);
      this.#promote(session);
      return this.#view(session);
    });
  }

  /** Double Ratchet §3.4 with the current session; until the peer replies, messages carry the prekey header. */
  encrypt(plaintext: Uint8Array): Promise<Uint8Array> {
    return this.#serialized(() => {
      const session = this.#sessions[0];
      if (!session) throw new CryptoError(CryptoErrorCode.InvalidState, 'no session with this peer');
      return session.encrypt(plaintext);
    });
  }

  /**
   * Decrypts with the session the message belongs to: an initial message goes to the
   * session with its base key (or builds a new one, consuming one-time prekeys only after
   * it decrypted); a normal message is tried on the current session, then on archived
   * ones. The session that decrypts becomes current. Before a session other than the
   * current one takes over, or a new one is built, the identity check (Receiving) is asked
   * about its (now authenticated) identity key; a refusal (CRYPTO_UNTRUSTED_IDENTITY)
   * leaves the record and the prekeys unchanged.
   */
  decrypt(
    ourIdentity: IdentityKeyPair,
    prekeys: PrekeyStore,
    message: Uint8Array,
    options: SessionOperationOptions = {},
  ): Promise<DecryptResult> {
    return this.#serialized(async () => {
      const parsed = parseSessionMessage(expectBytes(message, undefined, 'message'), this.#context.limits);
      const budget = decryptBudget(this.#context.limits);
      if (parsed.preKey) {
        const baseKey = parsed.preKey.baseKey;
        const owner = this.#sessions.find((s) => constantTimeEqual(s.baseKey, baseKey));
        if (owner) {
          const pending = await owner.decrypt(parsed, budget);
          return this.#take(owner, pending, options, false);
        }
        const { session, pending, consumePreKeys } = await Session.accept(
          ourIdentity,
          prekeys,
          parsed,
          this.#context,
          options,
        );
        await requireTrustedIdentity(this.#trustCheck(options), session.remoteIdentityKey, Direction.Receiving);
        await consumePreKeys();
        return this.#take(session, pending, options, true);
      }
      if (this.#sessions.length === 0) throw new CryptoError(CryptoErrorCode.InvalidState, 'no session with this peer');
      return this.#decryptNormal(parsed, budget, options);
    });
  }

  /**
   * A normal message: sessions that hold its chain (no DH step needed) first, then the
   * others, most recent first, within one shared budget of work before a MAC verifies.
   */
  async #decryptNormal(
    parsed: ParsedSessionMessage,
    budget: DecryptBudget,
    options: SessionOperationOptions,
  ): Promise<DecryptResult> {
    let ordered = this.#sessions;
    if (ordered.length > 1) {
      const needsStep = new Set(ordered.filter((s) => s.needsRatchetStep(parsed)));
      ordered = [...ordered.filter((s) => !needsStep.has(s)), ...needsStep];
    }
    let firstError: unknown;
    let duplicate: unknown;
    for (const session of [...ordered]) {
      let pending: PendingDecrypt;
      try {
        pending = await session.decrypt(parsed, budget);
      } catch (err) {
        if (!(err instanceof CryptoError)) throw err;
        firstError ??= err;
        if (err.code === CryptoErrorCode.DuplicateMessage) duplicate ??= err;
        if (err.code === CryptoErrorCode.WorkLimit) break;
        continue;
      }
      return this.#take(session, pending, options, false);
    }
    // A replay is reported as such even if other sessions merely failed to decrypt it.
    throw duplicate ?? firstError;
  }

  /** Commits a decryption and makes its session current, once the identity check allows a change of session. */
  async #take(
    session: Session,
    pending: PendingDecrypt,
    options: SessionOperationOptions,
    isNewSession: boolean,
  ): Promise<DecryptResult> {
    if (!isNewSession && session !== this.#sessions[0]) {
      await requireTrustedIdentity(this.#trustCheck(options), session.remoteIdentityKey, Direction.Receiving);
    }
    pending.commit();
    this.#promote(session);
    return { plaintext: pending.plaintext, session: this.#view(session), isNewSession };
  }

  #trustCheck(options: SessionOperationOptions): IdentityTrustOptions['isTrustedIdentity'] {
    return options.isTrustedIdentity ?? this.#isTrustedIdentity;
  }

  #promote(session: Session): void {
    this.#sessions = [session, ...this.#sessions.filter((s) => s !== session)].slice(
      0,
      this.#context.limits.maxArchivedSessions + 1,
    );
  }

  #view(session: Session): SessionInfo {
    let view = this.#views.get(session);
    if (!view) {
      view = new SessionView(session);
      this.#views.set(session, view);
    }
    return view;
  }

  #serialized<T>(op: () => Promise<T> | T): Promise<T> {
    const result = this.#queue.then(op);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /** Versioned bytes of every session held (secrets included): store them encrypted at rest. */
  serialize(): Uint8Array {
    const w = new ByteWriter().u8(RECORD_VERSION).u32(this.#sessions.length);
    for (const s of this.#sessions) w.bytes(s.serialize());
    return w.finish();
  }

  /** Restores a record from serialize(); it behaves exactly as the original. */
  static deserialize(bytes: Uint8Array, options: SessionRecordOptions = {}): SessionRecord {
    const record = new SessionRecord(options);
    const r = new ByteReader(bytes, 'session record');
    const version = r.u8();
    if (version !== RECORD_VERSION) {
      throw new CryptoError(CryptoErrorCode.UnsupportedVersion, `session record version ${version}`);
    }
    const count = r.u32();
    if (count > STORED_FORMAT_MAXIMA.sessions) {
      throw new CryptoError(CryptoErrorCode.MalformedMessage, 'session record: too many sessions');
    }
    for (let i = 0; i < count; i++) {
      const bytes = r.bytes(MAX_SESSION_BYTES);
      // Stored most recent first: past a (lowered) maxArchivedSessions the oldest are dropped, still checked for shape.
      const session = Session.deserialize(bytes, record.#context);
      if (record.#sessions.length <= record.#context.limits.maxArchivedSessions) record.#sessions.push(session);
    }
    r.end();
    return record;
  }
}
redactSecrets(SessionRecord, (self: SessionRecord) => `sessions: ${self.size}`);
