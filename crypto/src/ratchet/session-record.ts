/**
 * All sessions with one peer device: the current one and a few archived ones, as
 * libsignal's SessionRecord keeps them (rust/protocol/src/state/session.rs). The one public
 * way to encrypt and decrypt 1:1 messages. Archived sessions are needed when both sides
 * initiate at once, or a peer re-initiates: each side then holds two sessions for a while,
 * and a message decrypts with whichever it belongs to; that session becomes current, so
 * both sides converge on one. Decryption attempts never change a session they fail on.
 * Operations are queued: one runs at a time, so no chain key is ever used twice.
 */
import { constantTimeEqual, expectBytes } from '../bytes.ts';
import { ByteReader, ByteWriter } from '../codec.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import type { IdentityKeyPair } from '../keys/identity.ts';
import type { PreKeyBundle } from '../keys/prekeys.ts';
import { type CryptoLimits, resolveLimits } from '../limits.ts';
import { type CryptoPrimitives, resolvePrimitives } from '../primitives/index.ts';
import { redactSecrets } from '../redact.ts';
import type { PrekeyStore } from '../store.ts';
import type { AgreementOptions } from '../x3dh.ts';
import { parseSessionMessage } from './message.ts';
import { Session, type SessionContext } from './session.ts';
import { type SessionInfo, SessionView } from './session-info.ts';

const RECORD_VERSION = 1;
const MAX_SESSION_BYTES = 1 << 20;

export interface SessionRecordOptions {
  /** Overrides of DEFAULT_CRYPTO_LIMITS for this record and its sessions. */
  limits?: Partial<CryptoLimits> | undefined;
  /** The platform path its sessions compute with (`primitivesByName`); default: the platform's best. */
  primitives?: CryptoPrimitives | undefined;
}

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
  readonly #views = new WeakMap<Session, SessionInfo>();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: SessionRecordOptions = {}) {
    this.#sessions = [];
    this.#context = { limits: resolveLimits(options.limits), primitives: resolvePrimitives(options.primitives) };
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

  /** Starts a new session from a bundle (PQXDH) and makes it current; the old one is archived. */
  initiate(ourIdentity: IdentityKeyPair, bundle: PreKeyBundle, options: AgreementOptions = {}): Promise<SessionInfo> {
    return this.#serialized(async () => {
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
   * ones. The session that decrypts becomes current.
   */
  decrypt(
    ourIdentity: IdentityKeyPair,
    prekeys: PrekeyStore,
    message: Uint8Array,
    options: AgreementOptions = {},
  ): Promise<DecryptResult> {
    return this.#serialized(async () => {
      const parsed = parseSessionMessage(expectBytes(message, undefined, 'message'), this.#context.limits);
      if (parsed.preKey) {
        const baseKey = parsed.preKey.baseKey;
        const owner = this.#sessions.find((s) => constantTimeEqual(s.baseKey, baseKey));
        if (owner) {
          const plaintext = await owner.decrypt(parsed);
          this.#promote(owner);
          return { plaintext, session: this.#view(owner), isNewSession: false };
        }
        const { session, plaintext } = await Session.accept(ourIdentity, prekeys, parsed, this.#context, options);
        this.#promote(session);
        return { plaintext, session: this.#view(session), isNewSession: true };
      }
      if (this.#sessions.length === 0) throw new CryptoError(CryptoErrorCode.InvalidState, 'no session with this peer');
      let firstError: unknown;
      let duplicate: unknown;
      for (const session of [...this.#sessions]) {
        try {
          const plaintext = await session.decrypt(parsed);
          this.#promote(session);
          return { plaintext, session: this.#view(session), isNewSession: false };
        } catch (err) {
          if (!(err instanceof CryptoError)) throw err;
          firstError ??= err;
          if (err.code === CryptoErrorCode.DuplicateMessage) duplicate ??= err;
        }
      }
      // A replay is reported as such even if other sessions merely failed to decrypt it.
      throw duplicate ?? firstError;
    });
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
    if (count > record.#context.limits.maxArchivedSessions + 1) {
      throw new CryptoError(CryptoErrorCode.MalformedMessage, 'session record: too many sessions');
    }
    for (let i = 0; i < count; i++) {
      record.#sessions.push(Session.deserialize(r.bytes(MAX_SESSION_BYTES), record.#context));
    }
    r.end();
    return record;
  }
}
redactSecrets(SessionRecord, (self: SessionRecord) => `sessions: ${self.size}`);
