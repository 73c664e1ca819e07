import type { MsgRequest, StoredMsg } from '@nats-io/jetstream';
import { headers, type MsgHdrs } from '@nats-io/transport-node';
import {
  type Address,
  type EnvelopeWrite,
  type ExpiredEnvelope,
  StoreConflict,
  type StoredEnvelope,
} from '../../../core/store.ts';
import type { AccountDirectory } from './account-directory.ts';
import { isWrongLastSequence } from './compare-and-set.ts';
import { type NatsHandles, type NatsLink, unavailableIfConnection } from './link.ts';
import { accountOfToken, accountToken } from './names.ts';
import { ByteDeltas, type QueuedByteCounters } from './queued-bytes.ts';

/** Message headers of a stored envelope (the recipient is its subject; the payload is the message data). */
const FROM = 'Pulse-From';
const FROM_DEVICE = 'Pulse-From-Device';
const SERVER_TIME = 'Pulse-Server-Time';
const EXPIRES_AT = 'Pulse-Expires-At';

/** At most this many expired envelopes are deleted per purge (the next purge goes on). */
const PURGE_BATCH = 10_000;

const ENVELOPE_ID = /^\d{1,15}$/;

/**
 * STREAM.MSG.GET for the first message on `subject` at or after `seq`
 * (`next_by_subj`, nats-server 2.9+; the client's types list it for direct gets only).
 */
const nextOn = (subject: string, seq: number): MsgRequest => ({ seq, next_by_subj: subject }) as MsgRequest;

function envelopeHeaders(write: EnvelopeWrite): MsgHdrs {
  const h = headers();
  // A sealed envelope (PROTOCOL.md "Sealed sender") carries no sender header at all.
  if (write.from !== undefined) {
    h.set(FROM, accountToken(write.from.account));
    h.set(FROM_DEVICE, String(write.from.deviceId));
  }
  h.set(SERVER_TIME, String(write.serverTime));
  h.set(EXPIRES_AT, String(write.expiresAt));
  return h;
}

const expiresAt = (message: StoredMsg): number => Number(message.header.get(EXPIRES_AT));
/** The sender's address; undefined for a sealed envelope (no sender headers). */
const sender = (message: StoredMsg): Address | undefined =>
  message.header.has(FROM)
    ? { account: accountOfToken(message.header.get(FROM)), deviceId: Number(message.header.get(FROM_DEVICE)) }
    : undefined;

/** How a stored message is delivered: from its sender, or sealed. */
const origin = (message: StoredMsg): { from: Address } | { sealed: true } => {
  const from = sender(message);
  return from === undefined ? { sealed: true } : { from };
};

/** One envelope of a batch, with where it goes, where its id goes, and its queue precondition. */
interface Placed {
  readonly write: number;
  readonly envelope: number;
  readonly payload: Uint8Array;
  readonly headers: MsgHdrs;
  /** Its queue holds at most this many envelopes before it is added. */
  readonly queuedAtMost: number;
}

/** How often one envelope's publish is tried again after its queue changed (and still admits it). */
const PUBLISH_ATTEMPTS = 8;

/**
 * Offline envelopes in one JetStream stream, one subject per recipient device;
 * an envelope's id is its stream sequence (increasing in commit order, so the
 * delivery cursor works as on SQLite). `appendEnvelopes` returns only once
 * JetStream acknowledged every message (stored on the stream's replicas).
 *
 * Preconditions: the recipient's device ids are read from KV and compared; a
 * device's queue length is read after its last sequence, and every publish
 * names the last sequence it expects on its subject
 * (Nats-Expected-Last-Subject-Sequence), so a writer on another node that
 * appended meanwhile cannot slip past the length this write was checked on:
 * the publish is refused, the queue read again, and the write goes on only
 * while the precondition still holds (else StoreConflict). JetStream has no multi-message transaction (before
 * 2.12): when a later message of a batch is refused, the ones already
 * published are deleted again before StoreConflict is thrown. A crash in that
 * window leaves envelopes no `sent` answered (delivered, possibly twice if the
 * client sends again) but never a `sent` without a stored envelope.
 */
export class EnvelopeQueue {
  readonly #link: NatsLink;
  readonly #accounts: AccountDirectory;
  readonly #bytes: QueuedByteCounters;

  constructor(link: NatsLink, accounts: AccountDirectory, bytes: QueuedByteCounters) {
    this.#link = link;
    this.#accounts = accounts;
    this.#bytes = bytes;
  }

  get #stream(): string {
    return this.#link.names.envelopeStream;
  }

  #subject(account: string, deviceId: number): string {
    return this.#link.names.envelopeSubject(account, deviceId);
  }

  async length(account: string, deviceId: number): Promise<number> {
    const subject = this.#subject(account, deviceId);
    return (await this.#counts(subject)).get(subject) ?? 0;
  }

  /** Messages per subject among the subjects `filter` matches. */
  #counts(filter: string): Promise<Map<string, number>> {
    return this.#link.run(async ({ jsm }) => {
      const info = await jsm.streams.info(this.#stream, { subjects_filter: filter });
      return new Map(Object.entries(info.state.subjects ?? {}));
    });
  }

  async append(writes: readonly EnvelopeWrite[]): Promise<string[][]> {
    if (writes.length === 0) return [];
    // Per subject, in batch order: the envelopes to publish there.
    const bySubject = new Map<string, Placed[]>();
    for (const [w, write] of writes.entries()) {
      const h = envelopeHeaders(write);
      for (const [e, envelope] of write.envelopes.entries()) {
        const subject = this.#subject(write.to, envelope.deviceId);
        const placed = bySubject.get(subject) ?? [];
        bySubject.set(subject, placed);
        placed.push({
          write: w,
          envelope: e,
          payload: envelope.payload,
          headers: h,
          queuedAtMost: write.queuedAtMost[e]!,
        });
      }
    }
    // The last sequence first, then the length: an append in between shows in the length (counted
    // against the cap) or makes the publish below fail (wrong last sequence), never neither.
    const [lastSequences] = await Promise.all([this.#lastSequences([...bySubject.keys()]), this.#checkDevices(writes)]);
    const recipients = [...new Set(writes.map((write) => write.to))];
    const lengths = new Map<string, number>();
    for (const counts of await Promise.all(
      recipients.map((to) => this.#counts(this.#link.names.accountEnvelopes(to))),
    )) {
      for (const [subject, n] of counts) lengths.set(subject, n);
    }
    this.#checkQueues(writes, lengths);
    const ids = writes.map((write) => write.envelopes.map(() => ''));
    const published: number[] = [];
    const chains = await this.#link.run((handles) =>
      Promise.allSettled(
        [...bySubject].map(async ([subject, placed]) => {
          let last = lastSequences.get(subject) ?? 0;
          // One subject's envelopes one after another: each expects the sequence the previous one got.
          for (const envelope of placed) {
            const seq = await this.#publish(handles, subject, envelope, last);
            published.push(seq);
            last = seq;
            ids[envelope.write]![envelope.envelope] = String(seq);
          }
        }),
      ),
    );
    // Every chain has stopped (allSettled): what a failed batch published can be taken back completely.
    const failures = chains.flatMap((chain) => (chain.status === 'rejected' ? [chain.reason as unknown] : []));
    if (failures.length > 0) {
      await this.#deleteQuietly(published);
      const conflict = failures.find((failure) => failure instanceof StoreConflict || isWrongLastSequence(failure));
      if (conflict !== undefined) throw new StoreConflict('a recipient queue grew meanwhile');
      throw unavailableIfConnection(failures[0]);
    }
    const deltas = new ByteDeltas();
    for (const write of writes) {
      for (const { payload } of write.envelopes) {
        if (write.from !== undefined) deltas.add(write.from.account, 'sent', payload.length);
        deltas.add(write.to, 'received', payload.length);
      }
    }
    await this.#bytes.apply(deltas);
    return ids;
  }

  /**
   * Publishes one envelope expecting `last` as its subject's last sequence. The
   * subject also changes when its last envelope is acknowledged (deleted), which
   * takes nothing from the cap: on "wrong last sequence" the queue is read again
   * (last sequence, then length) and the publish retried while the precondition
   * still holds; a queue that grew past it is a StoreConflict.
   */
  async #publish({ js, jsm }: NatsHandles, subject: string, envelope: Placed, last: number): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      try {
        const ack = await js.publish(subject, envelope.payload, {
          headers: envelope.headers,
          expect: { lastSubjectSequence: last, streamName: this.#stream },
        });
        return ack.seq;
      } catch (error) {
        if (!isWrongLastSequence(error) || attempt >= PUBLISH_ATTEMPTS) throw error;
      }
      last = (await jsm.streams.getMessage(this.#stream, { last_by_subj: subject }))?.seq ?? 0;
      const info = await jsm.streams.info(this.#stream, { subjects_filter: subject });
      if ((info.state.subjects?.[subject] ?? 0) > envelope.queuedAtMost) {
        throw new StoreConflict(`the queue of ${subject} grew`);
      }
    }
  }

  async #checkDevices(writes: readonly EnvelopeWrite[]): Promise<void> {
    const recipients = [...new Set(writes.map((write) => write.to))];
    const deviceIds = await Promise.all(recipients.map((to) => this.#accounts.deviceIds(to)));
    const byRecipient = new Map(recipients.map((to, i) => [to, deviceIds[i]!]));
    for (const write of writes) {
      const stored = byRecipient.get(write.to)!;
      const same = stored.length === write.deviceIds.length && stored.every((id, i) => id === write.deviceIds[i]);
      if (!same) throw new StoreConflict(`the devices of ${write.to} changed`);
    }
  }

  /** Each envelope's queue may hold at most what the decision saw, counting the batch's own earlier envelopes. */
  #checkQueues(writes: readonly EnvelopeWrite[], lengths: ReadonlyMap<string, number>): void {
    const added = new Map<string, number>();
    for (const write of writes) {
      for (const [i, envelope] of write.envelopes.entries()) {
        const subject = this.#subject(write.to, envelope.deviceId);
        const queued = (lengths.get(subject) ?? 0) + (added.get(subject) ?? 0);
        if (queued > write.queuedAtMost[i]!)
          throw new StoreConflict(`the queue of ${write.to}/${envelope.deviceId} grew`);
        added.set(subject, (added.get(subject) ?? 0) + 1);
      }
    }
  }

  #lastSequences(subjects: readonly string[]): Promise<Map<string, number>> {
    return this.#link.run(async ({ jsm }) => {
      const last = await Promise.all(
        subjects.map((subject) => jsm.streams.getMessage(this.#stream, { last_by_subj: subject })),
      );
      return new Map(subjects.map((subject, i) => [subject, last[i]?.seq ?? 0]));
    });
  }

  async #deleteQuietly(sequences: readonly number[]): Promise<void> {
    await this.#link
      .run(({ jsm }) =>
        Promise.all(sequences.map((seq) => jsm.streams.deleteMessage(this.#stream, seq, false).catch(() => false))),
      )
      .catch(() => {});
  }

  /** Unexpired envelopes of a device after `afterId`, oldest first, at most `limit`. */
  pending(account: string, deviceId: number, afterId: number, limit: number, now: number): Promise<StoredEnvelope[]> {
    const subject = this.#subject(account, deviceId);
    return this.#link.run(async ({ jsm }) => {
      const page: StoredEnvelope[] = [];
      let next = afterId + 1;
      while (page.length < limit) {
        const message = await jsm.streams.getMessage(this.#stream, nextOn(subject, next));
        if (message === null) break;
        next = message.seq + 1;
        if (expiresAt(message) <= now) continue;
        page.push({
          envelopeId: String(message.seq),
          ...origin(message),
          serverTime: Number(message.header.get(SERVER_TIME)),
          payload: message.data,
        });
      }
      return page;
    });
  }

  /** Deletes acknowledged envelopes, only those of this device; returns how many. */
  ack(account: string, deviceId: number, envelopeIds: readonly string[]): Promise<number> {
    const subject = this.#subject(account, deviceId);
    const sequences = [...new Set(envelopeIds.filter((id) => ENVELOPE_ID.test(id)).map(Number))];
    return this.#link.run(async (handles) => {
      const deleted = await Promise.all(sequences.map((seq) => this.#deleteIfOn(handles, seq, subject)));
      const gone = deleted.filter((message) => message !== undefined);
      await this.#bytes.apply(this.#released(account, gone));
      return gone.length;
    });
  }

  /** Deletes the message `seq` if it is on `subject`; returns it if this call deleted it. */
  async #deleteIfOn({ jsm }: NatsHandles, seq: number, subject: string): Promise<StoredMsg | undefined> {
    const message = await jsm.streams.getMessage(this.#stream, { seq });
    if (message?.subject !== subject) return undefined;
    // Not found: another ack (or the purge) deleted it first.
    const deleted = await jsm.streams.deleteMessage(this.#stream, seq, false).catch(() => false);
    return deleted ? message : undefined;
  }

  /** The byte counters' share of deleted envelopes that waited for `recipient`. */
  #released(recipient: string, messages: readonly StoredMsg[]): ByteDeltas {
    const deltas = new ByteDeltas();
    for (const message of messages) {
      const from = sender(message);
      if (from !== undefined) deltas.add(from.account, 'sent', -message.data.length);
      deltas.add(recipient, 'received', -message.data.length);
    }
    return deltas;
  }

  /**
   * Deletes envelopes past their TTL, oldest first. It stops at the first
   * envelope still valid: with one envelope TTL for the cluster, envelopes
   * expire in commit order (give or take the nodes' clock skew). `pending`
   * never returns an expired envelope, purged or not.
   */
  purgeExpired(now: number): Promise<ExpiredEnvelope[]> {
    const { names } = this.#link;
    return this.#link.run(async ({ jsm }) => {
      const expired: ExpiredEnvelope[] = [];
      const deltas = new ByteDeltas();
      let next = 1;
      while (expired.length < PURGE_BATCH) {
        const message = await jsm.streams.getMessage(this.#stream, nextOn(names.envelopeSubjects, next));
        if (message === null || expiresAt(message) > now) break;
        next = message.seq + 1;
        const to = names.recipientOf(message.subject);
        // Deleted by another node's purge (or an ack) meanwhile: that one reports it.
        const deleted = await jsm.streams.deleteMessage(this.#stream, message.seq, false).catch(() => false);
        if (deleted && to !== undefined) {
          const from = sender(message);
          expired.push({ envelopeId: String(message.seq), from, to });
          if (from !== undefined) deltas.add(from.account, 'sent', -message.data.length);
          deltas.add(to.account, 'received', -message.data.length);
        }
      }
      await this.#bytes.apply(deltas);
      return expired;
    });
  }

  /** Drops a removed device's queue (reading it first, for the byte counters). */
  async drop(account: string, deviceId: number): Promise<void> {
    const subject = this.#subject(account, deviceId);
    const queued = await this.#link.run(async ({ jsm }) => {
      const messages: StoredMsg[] = [];
      for (let next = 1; ; ) {
        const message = await jsm.streams.getMessage(this.#stream, nextOn(subject, next));
        if (message === null) return messages;
        messages.push(message);
        next = message.seq + 1;
      }
    });
    await this.#link.run(({ jsm }) => jsm.streams.purge(this.#stream, { filter: subject }));
    await this.#bytes.apply(this.#released(account, queued));
  }
}
