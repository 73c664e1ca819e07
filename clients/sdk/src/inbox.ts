import { CryptoError, CryptoErrorCode } from '@pulse/crypto';
import type { FrameOf } from '@pulse/proto';
import type { Accounts } from './accounts.ts';
import { toBase64 } from './base64.ts';
import type { PulseConnection } from './connection/connection.ts';
import { type Content, decodeContent, decodeEnvelopeContent, parsePayload } from './content.ts';
import { ConversationId } from './conversation-id.ts';
import { addressKey, type CertifiedDevice, type DeviceAddress, type E2EEngine } from './e2e/engine.ts';
import { PulseError } from './errors.ts';
import type { Emit } from './events.ts';
import type { Groups } from './groups.ts';
import type { History } from './history.ts';
import type { ClientLimits } from './limits.ts';
import type { Lock } from './lock.ts';
import { type DedupeRecord, pushBounded, type StoredMessage } from './profile.ts';
import type { SealedSender } from './sealed-sender.ts';

/** Message ids per receipt (content.ts accepts up to 1000). */
const RECEIPT_BATCH = 500;
/** Envelope ids per `deliver_ack` (the protocol's array limit is 1000). */
const ACK_BATCH = 500;

export interface InboxDeps {
  /** What was already received (owned here). */
  readonly record: DedupeRecord;
  readonly accounts: Accounts;
  readonly engine: E2EEngine;
  readonly connection: PulseConnection;
  /** The identity key `account`'s accepted signed device list gives `deviceId` (this account's own too). */
  readonly listedKey: (account: string, deviceId: number) => string | undefined;
  /** Fetches and judges `account`'s signed device list (a device not known yet). */
  readonly refreshList: (account: string) => Promise<void>;
  readonly groups: Groups;
  readonly history: History;
  readonly limits: ClientLimits;
  readonly emit: Emit;
  /** Sessions and the profile change one operation at a time. */
  readonly lock: Lock;
  readonly persist: () => Promise<void>;
  /** Opens sealed deliveries and keeps the delivery tokens contacts' profile keys give (sealed-sender.ts). */
  readonly sealed: Pick<SealedSender, 'open' | 'learn'>;
  /** Sends `content` to `to` without holding the lock while waiting for the answer (receipts). */
  readonly sendInBackground: (to: string, content: Content) => Promise<void>;
  /** Applies an encrypted channel's membership or sender key (encrypted-channels/). */
  readonly channelControl: (
    from: DeviceAddress,
    content: Extract<Content, { t: 'channel' | 'channel_key' }>,
    later: (() => Promise<void>)[],
  ) => Promise<void>;
}

/**
 * Receiving: deliveries are decrypted, deduplicated and applied to the profile
 * one at a time in arrival order. Acknowledgements are batched (one
 * `deliver_ack` for every envelope whose save completed together: the server
 * deletes them in one transaction), and so are receipts.
 */
export class Inbox {
  readonly #deps: InboxDeps;
  #queue: Promise<void> = Promise.resolve();
  readonly #pendingReceipts = new Map<string, string[]>();
  #receiptFlush: Promise<void> | undefined;
  readonly #background = new Set<Promise<void>>();
  #pendingAcks: string[] = [];

  constructor(deps: InboxDeps) {
    this.#deps = deps;
  }

  /** Settles once everything queued so far has been processed. */
  get drained(): Promise<void> {
    return this.#queue;
  }

  deliver(frame: FrameOf<'deliver'>): void {
    // One at a time, in arrival order: sessions and dedupe state are sequential.
    this.enqueue(() => this.#receive(frame));
  }

  /**
   * An ephemeral event (PROTOCOL.md "Ephemeral events"): decrypted in turn with
   * deliveries, never acknowledged (nothing is stored) nor deduplicated (a
   * replay fails to decrypt: its message key is spent). Only typing is taken
   * this way; from a device or key the signed lists do not give, or anything
   * that does not decrypt, it is dropped without a word: it costs nothing to lose.
   */
  ephemeral(frame: FrameOf<'ephemeral'>): void {
    this.enqueue(() => this.#receiveEphemeral(frame).catch(() => {}));
  }

  /** Queues `work` behind the deliveries received so far, under the client's lock. */
  enqueue(work: () => Promise<void>): void {
    this.#queue = this.#queue.then(() => this.#deps.lock.run(work)).catch(() => {});
  }

  /** Waits until every envelope received so far has been processed and its receipts sent. */
  async idle(): Promise<void> {
    for (;;) {
      await this.#queue;
      if (this.#receiptFlush !== undefined) await this.#receiptFlush;
      else if (this.#background.size > 0) await Promise.all(this.#background);
      else return;
    }
  }

  async #receive(frame: FrameOf<'deliver'>): Promise<void> {
    const { record, engine, groups, limits, emit } = this.#deps;
    const ack = () => this.#ack(frame.envelopeId);
    if (record.seenEnvelopes.includes(frame.envelopeId)) {
      ack(); // delivered again (at least once): already processed
      return;
    }
    let from: DeviceAddress | undefined = frame.from;
    let content: Content | undefined;
    let profileKey: string | undefined;
    try {
      let bytes = frame.payload;
      // Sealed (PROTOCOL.md "Sealed sender"): the sender is known only once its certificate checks out.
      let certifiedKey: Uint8Array | undefined;
      if (frame.sealed === true) {
        const opened = await this.#deps.sealed.open(frame, (sender) => this.#isListedSender(sender));
        from = { account: opened.sender.account, deviceId: opened.sender.deviceId };
        certifiedKey = opened.sender.identityKey;
        bytes = opened.payload;
      }
      if (from === undefined) throw new PulseError('BAD_INPUT', 'a delivery that names no sender and is not sealed');
      const payload = parsePayload(bytes);
      if (payload.kind === 'session') {
        // Only devices in the sender account's signed list are heard (PROTOCOL.md "Devices").
        await this.#requireListed(from);
        const { plaintext, identityKey } = await this.#decrypt(from, payload.ciphertext);
        // Sealed: the session the message decrypted with must be the one of the certified key.
        if (certifiedKey !== undefined && toBase64(identityKey) !== toBase64(certifiedKey)) {
          throw new PulseError(
            'UNTRUSTED_DEVICE',
            `${addressKey(from)}'s certificate names another key than its session`,
          );
        }
        await this.#requireListedKey(from, identityKey);
        ({ content, profileKey } = decodeEnvelopeContent(plaintext, limits));
      } else {
        const group = groups.byId(payload.groupId);
        if (group === undefined || group.left || !group.members.includes(from.account)) {
          throw new PulseError('NOT_A_MEMBER', `group message from a non-member ${from.account}`);
        }
        content = decodeContent(await engine.groupDecrypt(from, payload.groupId, payload.ciphertext), limits);
        if (content.t !== 'text' && content.t !== 'typing')
          throw new PulseError('BAD_INPUT', 'unexpected group content');
        if (content.group !== payload.groupId) throw new PulseError('BAD_INPUT', 'group id mismatch');
      }
    } catch (error) {
      emit('problem', {
        from: from === undefined ? 'sealed' : `${from.account}.${from.deviceId}`,
        reason: error instanceof Error ? error.message : String(error),
      });
    }
    const replies: (() => Promise<void>)[] = [];
    if (content !== undefined && from !== undefined) {
      try {
        if (profileKey !== undefined && from.account !== this.#deps.accounts.account) {
          this.#deps.sealed.learn(from.account, profileKey);
        }
        await this.#apply(from, frame.serverTime, content, replies);
      } catch (error) {
        emit('problem', {
          from: addressKey(from),
          reason: error instanceof Error ? error.message : String(error),
        });
      }
    }
    pushBounded(record.seenEnvelopes, frame.envelopeId, limits.maxRememberedEnvelopes);
    // Acknowledge only once a save holding this envelope's effects is stored: a crash in
    // between means redelivery, never loss. Not awaited here, so a burst of deliveries
    // shares a few coalesced saves instead of one save each.
    this.#inBackground(this.#deps.persist().then(ack));
    for (const reply of replies) await reply().catch(() => {});
  }

  /**
   * Acknowledges with the others ready in this turn: the acks a save releases
   * all run before the microtask that sends them. Not sent while disconnected
   * (the connection drops it): the server delivers the envelope again.
   */
  #ack(envelopeId: string): void {
    if (this.#pendingAcks.length === 0) {
      queueMicrotask(() => {
        const ids = this.#pendingAcks;
        this.#pendingAcks = [];
        for (let i = 0; i < ids.length; i += ACK_BATCH) {
          this.#deps.connection.send({ type: 'deliver_ack', envelopeIds: ids.slice(i, i + ACK_BATCH) });
        }
      });
    }
    this.#pendingAcks.push(envelopeId);
  }

  async #receiveEphemeral(frame: FrameOf<'ephemeral'>): Promise<void> {
    const { engine, groups, limits } = this.#deps;
    const from: DeviceAddress = frame.from;
    // No fetch for an unknown device: an ephemeral event is not worth a request.
    const listed = this.#deps.listedKey(from.account, from.deviceId);
    if (listed === undefined) return;
    const payload = parsePayload(frame.payload);
    let content: Content;
    if (payload.kind === 'session') {
      const { plaintext, identityKey } = await engine.decrypt(from, payload.ciphertext);
      if (toBase64(identityKey) !== listed) return;
      content = decodeContent(plaintext, limits);
    } else {
      const group = groups.byId(payload.groupId);
      if (group === undefined || group.left || !group.members.includes(from.account)) return;
      content = decodeContent(await engine.groupDecrypt(from, payload.groupId, payload.ciphertext), limits);
      if (content.t !== 'typing' || content.group !== payload.groupId) return;
    }
    // The ratchet moved on: save it (coalesced with other saves), then show the event.
    this.#inBackground(this.#deps.persist());
    if (content.t === 'typing') await this.#apply(from, frame.serverTime, content, []);
  }

  /**
   * Decrypts; when the engine's identity check (client.ts) refused the key, the
   * account's list may be newer (or a new account identity, flagged by the
   * TrustBook): fetch it once and try again. A refusal changed nothing.
   */
  async #decrypt(
    from: DeviceAddress,
    ciphertext: Uint8Array,
  ): Promise<{ plaintext: Uint8Array; identityKey: Uint8Array }> {
    try {
      return await this.#deps.engine.decrypt(from, ciphertext);
    } catch (error) {
      if (!CryptoError.is(error, CryptoErrorCode.UntrustedIdentity)) throw error;
      await this.#deps.refreshList(from.account);
      return this.#deps.engine.decrypt(from, ciphertext);
    }
  }

  /**
   * A sealed envelope's certified sender must be a device its account's signed
   * list gives, with the certified key (the list fetched once when it is not).
   */
  async #isListedSender(sender: CertifiedDevice): Promise<boolean> {
    const key = toBase64(sender.identityKey);
    if (this.#deps.listedKey(sender.account, sender.deviceId) === key) return true;
    await this.#deps.refreshList(sender.account).catch(() => {});
    return this.#deps.listedKey(sender.account, sender.deviceId) === key;
  }

  /** A device not in its account's accepted list: fetch the list once; still absent, refused. */
  async #requireListed(from: DeviceAddress): Promise<void> {
    if (this.#deps.listedKey(from.account, from.deviceId) !== undefined) return;
    await this.#deps.refreshList(from.account);
    if (this.#deps.listedKey(from.account, from.deviceId) === undefined) {
      throw new PulseError('UNTRUSTED_DEVICE', `${addressKey(from)} is not in ${from.account}'s signed device list`);
    }
  }

  /**
   * The session's identity key must be the one the signed list gives the
   * device. Otherwise the list may be newer (or a new account identity, which
   * the TrustBook flags as IDENTITY_CHANGED): fetch it once; still not, refused.
   */
  async #requireListedKey(from: DeviceAddress, identityKey: Uint8Array): Promise<void> {
    const key = toBase64(identityKey);
    if (this.#deps.listedKey(from.account, from.deviceId) === key) return;
    await this.#deps.refreshList(from.account);
    if (this.#deps.listedKey(from.account, from.deviceId) !== key) {
      throw new PulseError('UNTRUSTED_DEVICE', `${addressKey(from)} used an identity key its account did not sign`);
    }
  }

  async #apply(
    from: DeviceAddress,
    serverTime: number,
    content: Content,
    replies: (() => Promise<void>)[],
  ): Promise<void> {
    const { record, accounts, groups, history, limits, emit } = this.#deps;
    const fromSelf = from.account === accounts.account;
    switch (content.t) {
      case 'text': {
        const seenKey = `${from.account}/${content.id}`;
        if (record.seenMessages.includes(seenKey)) return;
        pushBounded(record.seenMessages, seenKey, limits.maxRememberedEnvelopes);
        let conversation: ConversationId;
        if (content.group !== undefined) {
          if (groups.byId(content.group) === undefined) return;
          conversation = ConversationId.group(content.group);
        } else if (fromSelf) {
          if (content.to === undefined) return; // a copy of what this account sent: to whom
          conversation = ConversationId.user(content.to);
        } else {
          conversation = ConversationId.user(from.account);
        }
        const message: StoredMessage = {
          id: content.id,
          conversation: ConversationId.key(conversation),
          from: from.account,
          fromDevice: from.deviceId,
          text: content.text,
          sentAt: content.sentAt,
          receivedAt: serverTime,
          direction: fromSelf ? 'out' : 'in',
          ...(fromSelf ? { status: 'sent' as const } : {}),
          ...(content.group === undefined ? {} : { group: content.group }),
        };
        history.addUnread(message);
        emit('message', message);
        if (!fromSelf && content.group === undefined) {
          replies.push(async () => this.#queueReceipt(from.account, content.id));
        }
        return;
      }
      case 'receipt': {
        const conversation = ConversationId.user(from.account);
        history.markDelivered(conversation, content.ids);
        emit('receipt', { conversation: ConversationId.key(conversation), ids: content.ids, from: from.account });
        return;
      }
      case 'typing': {
        const conversation =
          content.group === undefined ? ConversationId.user(from.account) : ConversationId.group(content.group);
        emit('typing', { conversation: ConversationId.key(conversation), from: from.account, typing: content.typing });
        return;
      }
      case 'group': {
        const applied = await groups.applyUpdate(from, content, replies);
        if (applied !== undefined) emit('group', applied);
        return;
      }
      case 'sender_key':
        await groups.applySenderKey(from, content);
        return;
      case 'channel':
      case 'channel_key':
        await this.#deps.channelControl(from, content, replies);
        return;
    }
  }

  /**
   * Receipts for a burst of messages go out as one receipt per sender: ids are
   * gathered while deliveries keep arriving, then sent once the inbox is idle.
   */
  #queueReceipt(account: string, messageId: string): void {
    const ids = this.#pendingReceipts.get(account) ?? [];
    ids.push(messageId);
    this.#pendingReceipts.set(account, ids);
    this.#receiptFlush ??= new Promise((resolve) => setTimeout(resolve, 0))
      .then(() => this.#queue)
      .then(() => {
        this.#receiptFlush = undefined;
        const batches = [...this.#pendingReceipts];
        this.#pendingReceipts.clear();
        for (const [to, all] of batches) {
          for (let i = 0; i < all.length; i += RECEIPT_BATCH) {
            this.#inBackground(this.#deps.sendInBackground(to, { t: 'receipt', ids: all.slice(i, i + RECEIPT_BATCH) }));
          }
        }
      });
  }

  /** Tracks work nobody awaits (receipts), so `idle()` can wait for it. */
  #inBackground(work: Promise<void>): void {
    const tracked = work.catch(() => {}).finally(() => this.#background.delete(tracked));
    this.#background.add(tracked);
  }
}
