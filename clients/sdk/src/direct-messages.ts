import { type Content, checkText, randomId } from './content.ts';
import { ConversationId } from './conversation-id.ts';
import { PulseError } from './errors.ts';
import type { History } from './history.ts';
import type { ClientLimits } from './limits.ts';
import type { Lock } from './lock.ts';
import type { Outbox } from './outbox.ts';
import type { StoredMessage } from './profile.ts';

export interface DirectMessagesDeps {
  readonly outbox: Outbox;
  readonly history: History;
  readonly lock: Lock;
  readonly limits: ClientLimits;
  /** This account and device; NOT_REGISTERED before registration. */
  readonly self: () => { account: string; deviceId: number };
  readonly persist: () => Promise<void>;
}

/**
 * The 1:1 send path (README "Throughput"): a text is encrypted under the lock
 * and stored as pending; the lock is released while the server commits, so the
 * next message is encrypted meanwhile. The answer settles the stored status
 * (sent, or failed); when the recipient's devices changed meanwhile
 * (DEVICES_MISMATCH) it is sent again to the current device list. Then a copy
 * goes to this account's other devices.
 */
export class DirectMessages {
  readonly #deps: DirectMessagesDeps;

  constructor(deps: DirectMessagesDeps) {
    this.#deps = deps;
  }

  /** Encrypts `text` for every device of `to` (and this account's other devices) and sends it. */
  async sendText(to: string, text: string): Promise<StoredMessage> {
    const { outbox, history, lock, limits, persist } = this.#deps;
    const { stored, content, answer } = await lock.run(async () => {
      const self = this.#deps.self();
      checkText(text, limits);
      if (to === self.account) throw new PulseError('BAD_INPUT', 'sending to yourself is not supported');
      const content: Content = { t: 'text', id: randomId(), text, sentAt: Date.now() };
      const stored: StoredMessage = {
        id: content.id,
        conversation: ConversationId.key(ConversationId.user(to)),
        from: self.account,
        fromDevice: self.deviceId,
        text,
        sentAt: content.sentAt,
        receivedAt: content.sentAt,
        direction: 'out',
        status: 'pending',
      };
      // The pending message is stored by the save that precedes the send (outbox.ts), not a save of its own.
      const { answer } = await outbox.start(to, content, () => history.add(stored));
      return { stored, content, answer };
    });
    try {
      await this.#settle(to, content, answer);
    } catch (error) {
      stored.status = 'failed';
      await persist();
      throw error;
    }
    if (stored.status === 'pending') stored.status = 'sent';
    // The status is display state, not a guarantee: it goes with the next save, which this asks
    // for without waiting. In a burst that is the save before the next texts leave, so one save
    // serves both, and the caller's next text is not held back by a save of its own (README
    // "Throughput"). A crash in between shows this text as pending; `close()` waits for the save.
    persist().catch(() => {});
    if (outbox.otherOwnDevices().length > 0) {
      await lock.run(() => outbox.sendToOwnDevices({ ...content, to }));
    }
    return stored;
  }

  /** A send that holds the lock only while encrypting, then settles on its own (receipts). */
  async sendInBackground(to: string, content: Content): Promise<void> {
    const { answer } = await this.#deps.lock.run(() => this.#deps.outbox.start(to, content));
    await this.#settle(to, content, answer);
  }

  /**
   * Waits for the answer to a pipelined send; when the recipient's devices
   * changed meanwhile, sends again to the current device list (under the lock).
   */
  async #settle(to: string, content: Content, answer: Promise<void>): Promise<void> {
    try {
      await answer;
    } catch (error) {
      if (!PulseError.is(error, 'DEVICES_MISMATCH')) throw error;
      await this.#deps.lock.run(() => this.#deps.outbox.send(to, content, true));
    }
  }
}
