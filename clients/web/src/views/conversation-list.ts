import { ConversationId, type StoredMessage } from '@pulse/sdk';
import { h, replaceChildren } from '../dom.ts';

/** One row of the list. */
export interface ConversationEntry {
  readonly conversation: ConversationId;
  readonly title: string;
  readonly last: StoredMessage | undefined;
  readonly unread: number;
  /** For a 1:1 conversation: the contact is online. */
  readonly online: boolean;
  /** The conversation is the open one. */
  readonly active: boolean;
}

/**
 * The conversation list: a presence dot (1:1) or `#` (group), the title, the
 * unread count and the last message. Rows are `conversation-<key>` to scripts.
 */
export class ConversationList {
  readonly element = h('ul', { class: 'conversations', testid: 'conversations' });
  readonly #open: (conversation: ConversationId) => void;

  constructor(open: (conversation: ConversationId) => void) {
    this.#open = open;
  }

  render(entries: readonly ConversationEntry[]): void {
    replaceChildren(this.element, ...entries.map((entry) => this.#row(entry)));
  }

  #row({ conversation, title, last, unread, online, active }: ConversationEntry): HTMLLIElement {
    return h(
      'li',
      {
        class: active ? 'active' : '',
        testid: `conversation-${ConversationId.key(conversation)}`,
        on: { click: () => this.#open(conversation) },
      },
      h(
        'span',
        { class: 'title' },
        conversation.kind === 'user'
          ? h('span', {
              class: `dot ${online ? 'on' : ''}`,
              testid: `presence-${conversation.account}`,
              attrs: { 'data-online': String(online) },
            })
          : '#',
        title,
        unread > 0 && h('span', { class: 'unread' }, String(unread)),
      ),
      h(
        'span',
        { class: 'preview' },
        last === undefined ? 'No messages yet' : `${last.direction === 'out' ? 'You: ' : ''}${last.text}`,
      ),
    );
  }
}
