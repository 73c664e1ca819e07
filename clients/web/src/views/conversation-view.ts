import { ConversationId, type GroupRecord, type PulseClient, type StoredMessage } from '@pulse/sdk';
import type { Notice } from '../device-notices.ts';
import { h, replaceChildren } from '../dom.ts';
import { TYPING_MS } from '../typing-indicators.ts';

/** Delivery state of an outgoing message: sending, stored by the server, on a recipient device, refused. */
const TICKS = { pending: ' …', sent: ' ✓', delivered: ' ✓✓', failed: ' ✗ not sent' } as const;

export interface ConversationViewHooks {
  /** Sends `text` in `conversation`; false when it failed (the composer gives the text back). */
  send(conversation: ConversationId, text: string): Promise<boolean>;
  /** The user asked for the safety number with `account`. */
  showSafetyNumber(account: string): void;
  /** The user asked to add or remove a member of the group. */
  changeMembers(groupId: string, action: 'add' | 'remove'): void;
}

/**
 * The open conversation: a header (title, presence or members, the safety-number
 * and member buttons), the page's warning, the messages with delivery ticks,
 * who is typing, and the composer. The composer survives re-renders (incoming
 * messages, presence), so nothing typed is lost.
 */
export class ConversationView {
  readonly element = h('section', { class: 'chat' });
  readonly #client: PulseClient;
  readonly #hooks: ConversationViewHooks;
  readonly #header = h('header');
  readonly #warningSlot = h('div');
  readonly #messages = h('div', { class: 'messages', testid: 'messages' });
  readonly #typingLine = h('div', { class: 'typing', testid: 'typing' });
  readonly #footer = h('div');
  /** What the footer shows (conversation, and whether this account left the group): rebuilt only when it changes. */
  #footerKey: string | undefined;
  /** When this page last told the open conversation that the user is typing. */
  #typingSentAt = 0;

  constructor(client: PulseClient, hooks: ConversationViewHooks) {
    this.#client = client;
    this.#hooks = hooks;
  }

  /** Shows `conversation` titled `title` (or, without one, a hint), with `warning` above it. */
  render(conversation: ConversationId | undefined, title: string, warning: string | undefined): void {
    const warningBar = warning === undefined ? undefined : h('div', { class: 'warning', testid: 'warning' }, warning);
    if (conversation === undefined) {
      this.#footerKey = undefined;
      replaceChildren(
        this.element,
        warningBar,
        h('div', { class: 'empty' }, 'Pick a conversation, or start one with a name.'),
      );
      return;
    }
    const group = conversation.kind === 'group' ? this.#client.findGroup(conversation.groupId) : undefined;
    if (this.element.firstChild !== this.#header) {
      replaceChildren(this.element, this.#header, this.#warningSlot, this.#messages, this.#typingLine, this.#footer);
    }
    replaceChildren(
      this.#header,
      h('h2', { testid: 'chat-title' }, conversation.kind === 'group' ? `# ${title}` : title),
      h('span', { class: 'spacer' }),
      ...this.#actions(conversation, group),
    );
    replaceChildren(this.#warningSlot, warningBar);
    const footerKey = `${ConversationId.key(conversation)}|${group?.left === true}`;
    if (this.#footerKey !== footerKey) {
      this.#footerKey = footerKey;
      replaceChildren(
        this.#footer,
        group?.left === true
          ? h('div', { class: 'warning' }, 'You were removed from this group.')
          : this.#composer(conversation),
      );
    }
  }

  /** The messages of `conversation` with the page's `notices` among them (by time), scrolled to the newest. */
  renderMessages(conversation: ConversationId | undefined, notices: readonly Notice[] = []): void {
    if (conversation === undefined) return;
    const inGroup = conversation.kind === 'group';
    const lines: { at: number; element: HTMLElement }[] = this.#client
      .messages(conversation)
      .map((m) => ({ at: m.receivedAt, element: bubble(m, inGroup) }));
    for (const notice of notices) {
      lines.push({ at: notice.at, element: h('div', { class: 'system', testid: 'system-line' }, notice.text) });
    }
    lines.sort((a, b) => a.at - b.at); // stable: a notice stays after the message it arrived with
    replaceChildren(this.#messages, ...lines.map((line) => line.element));
    this.#messages.scrollTop = this.#messages.scrollHeight;
  }

  /** "bob is typing…", "bob, carol are typing…", or nothing. */
  renderTyping(who: readonly string[]): void {
    this.#typingLine.textContent =
      who.length === 0 ? '' : `${who.join(', ')} ${who.length === 1 ? 'is' : 'are'} typing…`;
  }

  focusComposer(): void {
    this.element.querySelector<HTMLInputElement>('[data-testid=composer]')?.focus();
  }

  /** A group's members and member buttons (while this account is in it); a contact's presence and safety number. */
  #actions(conversation: ConversationId, group: GroupRecord | undefined): Node[] {
    if (conversation.kind === 'user') {
      const online = this.#client.isOnline(conversation.account);
      return [
        h(
          'span',
          { class: 'badge', testid: 'peer-presence' },
          h('span', { class: `dot ${online ? 'on' : ''}` }),
          online ? 'online' : 'offline',
        ),
        h(
          'button',
          {
            class: 'secondary',
            testid: 'safety',
            on: { click: () => this.#hooks.showSafetyNumber(conversation.account) },
          },
          'Safety number',
        ),
      ];
    }
    if (group === undefined || group.left) return [];
    const me = this.#client.account;
    const members = group.members.map((m) =>
      h(
        'span',
        { class: 'badge' },
        h('span', { class: `dot ${m === me || this.#client.isOnline(m) ? 'on' : ''}` }),
        m === me ? `${m} (you)` : m,
      ),
    );
    return [
      h('span', { class: 'badge', testid: 'members' }, ...members),
      h(
        'button',
        { class: 'secondary', testid: 'add-member', on: { click: () => this.#hooks.changeMembers(group.id, 'add') } },
        'Add',
      ),
      h(
        'button',
        {
          class: 'secondary',
          testid: 'remove-member',
          on: { click: () => this.#hooks.changeMembers(group.id, 'remove') },
        },
        'Remove',
      ),
    ];
  }

  #composer(conversation: ConversationId): HTMLFormElement {
    const input = h('input', {
      testid: 'composer',
      attrs: { type: 'text', placeholder: 'Message (end-to-end encrypted)', autocomplete: 'off' },
    });
    input.addEventListener('input', () => {
      const now = Date.now();
      if (now - this.#typingSentAt < TYPING_MS) return;
      this.#typingSentAt = now;
      void this.#client.setTyping(conversation, true);
    });
    return h(
      'form',
      {
        class: 'composer',
        on: {
          submit: async (event) => {
            event.preventDefault();
            const text = input.value;
            if (text.trim() === '') return;
            input.value = '';
            this.#typingSentAt = 0;
            if (!(await this.#hooks.send(conversation, text))) input.value = text;
          },
        },
      },
      input,
      h('button', { testid: 'send', attrs: { type: 'submit' } }, 'Send'),
    );
  }
}

/** One stored message as a bubble: the sender in groups, the text, the time and (for outgoing ones) its ticks. */
function bubble(m: StoredMessage, inGroup: boolean): HTMLElement {
  const mine = m.direction === 'out';
  const ticks = mine ? TICKS[m.status ?? 'sent'] : '';
  return h(
    'div',
    {
      class: `bubble ${mine ? 'mine' : ''}`,
      testid: 'message',
      attrs: { 'data-from': m.from, 'data-status': m.status ?? '' },
    },
    inGroup && !mine && h('span', { class: 'sender' }, m.from),
    h('span', { class: 'text' }, m.text),
    h(
      'span',
      { class: 'meta' },
      new Date(m.sentAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) + ticks,
    ),
  );
}
