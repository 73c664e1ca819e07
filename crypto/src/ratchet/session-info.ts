/**
 * What a SessionRecord shows of one of its sessions. A read-only face: the record stays
 * the one way to encrypt and decrypt, and runs one operation at a time on its sessions.
 */
import { toHex } from '../bytes.ts';
import { redactSecrets } from '../redact.ts';
import type { Session } from './session.ts';

export interface SessionInfo {
  /** Our 33-byte identity key, as the session was built with it. */
  readonly localIdentityKey: Uint8Array;
  /** The peer's 33-byte identity key: compare it with the one you trust (safety numbers). */
  readonly remoteIdentityKey: Uint8Array;
  /** The initiator's ephemeral key, shared by all initial messages of this session. */
  readonly baseKey: Uint8Array;
  /** True while this side initiated and has not heard back: its messages carry the prekey header. */
  readonly awaitingReply: boolean;
  /**
   * This session alone (secrets included), in the form sessions were stored in before
   * records existed; `SessionRecord.fromSerializedSession` reads it.
   */
  serialize(): Uint8Array;
}

export class SessionView implements SessionInfo {
  readonly #session: Session;

  constructor(session: Session) {
    this.#session = session;
  }

  get localIdentityKey(): Uint8Array {
    return this.#session.localIdentityKey;
  }

  get remoteIdentityKey(): Uint8Array {
    return this.#session.remoteIdentityKey;
  }

  get baseKey(): Uint8Array {
    return this.#session.baseKey;
  }

  get awaitingReply(): boolean {
    return this.#session.awaitingReply;
  }

  serialize(): Uint8Array {
    return this.#session.serialize();
  }
}
redactSecrets(SessionView, (self: SessionView) => `remoteIdentityKey: ${toHex(self.remoteIdentityKey)}`);
