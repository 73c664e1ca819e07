/**
 * All sessions with one peer device: the current one and a few archived ones, as
 * libsignal's SessionRecord keeps them (rust/protocol/src/state/session.rs). Needed when
 * both sides initiate at once, or a peer re-initiates: each side then holds two sessions
 * for a while, and a message decrypts with whichever it belongs to; that session becomes
 * current, so both sides converge on one. Decryption attempts never change a session they fail on.
 */
import { constantTimeEqual, expectBytes } from '../bytes.ts';
import { ByteReader, ByteWriter } from '../codec.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import type { IdentityKeyPair } from '../keys/identity.ts';
import type { PreKeyBundle } from '../keys/prekeys.ts';
import { type CryptoLimits, resolveLimits } from '../limits.ts';
import { redactSecrets } from '../redact.ts';
import type { PrekeyStore } from '../store.ts';
import { parseSessionMessage } from './message.ts';
import { Session, type SessionOptions } from './session.ts';

const RECORD_VERSION = 1;
const MAX_SESSION_BYTES = 1 << 20;

export class SessionRecord {
  /** Most recent first; index 0 is the current session. */
  #sessions: Session[];
  readonly #limits: CryptoLimits;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: { limits?: Partial<CryptoLimits> } = {}) {
    this.#sessions = [];
    this.#limits = resolveLimits(options.limits);
  }

  /** A record holding `session` as its current (and only) session: for state saved before records existed. */
  static fromSession(session: Session, options: { limits?: Partial<CryptoLimits> } = {}): SessionRecord {
    const record = new SessionRecord(options);
    record.#sessions.push(session);
    return record;
  }

  /** The session new messages are encrypted with, if any. */
  get current(): Session | undefined {
    return this.#sessions[0];
  }

  /** Number of sessions held (current + archived). */
  get size(): number {
    return this.#sessions.length;
  }

  /** Starts a new session from a bundle (PQXDH) and makes it current; the old one is archived. */
  initiate(ourIdentity: IdentityKeyPair, bundle: PreKeyBundle, options: SessionOptions = {}): Promise<Session> {
    return this.#serialized(async () => {
      const session = await Session.initiate(ourIdentity, bundle, { ...options, limits: this.#limits });
      this.#promote(session);
      return session;
    });
  }

  encrypt(plaintext: Uint8Array): Promise<Uint8Array> {
    return this.#serialized(() => {
      const session = this.current;
      if (!session) throw new CryptoError(CryptoErrorCode.InvalidState, 'no session with this peer');
      return session.encrypt(plaintext);
    });
  }

  /**
   * Decrypts with the session the message belongs to: an initial message goes to the
   * session with its base key (or builds a new one); a normal message is tried on the
   * current session, then on archived ones. The session that decrypts becomes current.
   */
  decrypt(
    ourIdentity: IdentityKeyPair,
    prekeys: PrekeyStore,
    message: Uint8Array,
    options: SessionOptions = {},
  ): Promise<{ plaintext: Uint8Array; session: Session; isNewSession: boolean }> {
    return this.#serialized(async () => {
      const parsed = parseSessionMessage(expectBytes(message, undefined, 'message'), this.#limits);
      if (parsed.preKey) {
        const baseKey = parsed.preKey.baseKey;
        const owner = this.#sessions.find((s) => constantTimeEqual(s.baseKey, baseKey));
        if (owner) {
          const plaintext = await owner.decrypt(message);
          this.#promote(owner);
          return { plaintext, session: owner, isNewSession: false };
        }
        const { session, plaintext } = await Session.accept(ourIdentity, prekeys, message, {
          ...options,
          limits: this.#limits,
        });
        this.#promote(session);
        return { plaintext, session, isNewSession: true };
      }
      if (this.#sessions.length === 0) throw new CryptoError(CryptoErrorCode.InvalidState, 'no session with this peer');
      let firstError: unknown;
      let duplicate: unknown;
      for (const session of [...this.#sessions]) {
        try {
          const plaintext = await session.decrypt(message);
          this.#promote(session);
          return { plaintext, session, isNewSession: false };
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
      this.#limits.maxArchivedSessions + 1,
    );
  }

  #serialized<T>(op: () => Promise<T> | T): Promise<T> {
    const result = this.#queue.then(op);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /** Versioned bytes of every session held (secrets included). */
  serialize(): Uint8Array {
    const w = new ByteWriter().u8(RECORD_VERSION).u32(this.#sessions.length);
    for (const s of this.#sessions) w.bytes(s.serialize());
    return w.finish();
  }

  static deserialize(bytes: Uint8Array, options: { limits?: Partial<CryptoLimits> } = {}): SessionRecord {
    const record = new SessionRecord(options);
    const r = new ByteReader(bytes, 'session record');
    const version = r.u8();
    if (version !== RECORD_VERSION) {
      throw new CryptoError(CryptoErrorCode.UnsupportedVersion, `session record version ${version}`);
    }
    const count = r.u32();
    if (count > record.#limits.maxArchivedSessions + 1) {
      throw new CryptoError(CryptoErrorCode.MalformedMessage, 'session record: too many sessions');
    }
    for (let i = 0; i < count; i++) {
      record.#sessions.push(Session.deserialize(r.bytes(MAX_SESSION_BYTES), { limits: record.#limits }));
    }
    r.end();
    return record;
  }
}
redactSecrets(SessionRecord, (self: SessionRecord) => `sessions: ${self.size}`);
