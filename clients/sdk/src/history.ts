import { type ConversationId, conversationKeyOf } from './conversation-id.ts';
import type { ClientLimits } from './limits.ts';
import { type HistoryRecord, pushBounded, type StoredMessage } from './profile.ts';

export type HistoryLimits = Pick<ClientLimits, 'maxHistoryPerConversation' | 'maxRememberedEnvelopes'>;

/** The stored form of an unread entry: `conversation|messageId` (conversation keys never contain `|`). */
function unreadEntry(message: StoredMessage): string {
  return `${message.conversation}|${message.id}`;
}

/**
 * Local history: the newest `maxHistoryPerConversation` messages of each
 * conversation, and the received messages `takeUnread` has not handed out yet.
 * Owns the profile's `conversations` and `unread`.
 */
export class History {
  readonly #record: HistoryRecord;
  readonly #limits: HistoryLimits;
  readonly #persist: () => Promise<void>;

  constructor(record: HistoryRecord, limits: HistoryLimits, persist: () => Promise<void>) {
    this.#record = record;
    this.#limits = limits;
    this.#persist = persist;
  }

  /** The keys of the conversations that hold messages. */
  keys(): string[] {
    return Object.keys(this.#record.conversations);
  }

  messages(conversation: ConversationId | string): readonly StoredMessage[] {
    return this.#record.conversations[conversationKeyOf(conversation)] ?? [];
  }

  /** Appends `message` to its conversation, keeping the newest messages. */
  add(message: StoredMessage): void {
    const conversations = this.#record.conversations;
    const list = conversations[message.conversation] ?? [];
    conversations[message.conversation] = list;
    pushBounded(list, message, this.#limits.maxHistoryPerConversation);
  }

  /** Appends a received message and remembers it as unread. */
  addUnread(message: StoredMessage): void {
    this.add(message);
    pushBounded(this.#record.unread, unreadEntry(message), this.#limits.maxRememberedEnvelopes);
  }

  /** A receipt: the outgoing messages `ids` of `conversation` reached a recipient device. */
  markDelivered(conversation: ConversationId, ids: readonly string[]): void {
    const delivered = new Set(ids);
    for (const message of this.messages(conversation)) {
      if (message.direction === 'out' && delivered.has(message.id)) message.status = 'delivered';
    }
  }

  /** Received messages not taken yet, oldest first, now forgotten as unread (saved). */
  async takeUnread(): Promise<StoredMessage[]> {
    const record = this.#record;
    const out: StoredMessage[] = [];
    for (const entry of record.unread) {
      const bar = entry.indexOf('|');
      const found = record.conversations[entry.slice(0, bar)]?.find((m) => m.id === entry.slice(bar + 1));
      if (found !== undefined) out.push(found);
    }
    if (record.unread.length > 0) {
      record.unread = [];
      await this.#persist();
    }
    return out;
  }
}
