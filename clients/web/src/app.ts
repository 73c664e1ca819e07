import { type ConnectionStatus, type PulseClient, PulseError, type StoredMessage } from '@pulse/sdk';
import { h, replaceChildren } from './dom.ts';
import { enableNotifications, notify, previewAllowed, setPreviewAllowed } from './notifications.ts';

const TYPING_MS = 3_000;
/** Delivery state of an outgoing message: sending, stored by the server, on a recipient device, refused. */
const TICKS = { pending: ' …', sent: ' ✓', delivered: ' ✓✓', failed: ' ✗ not sent' } as const;
const TRANSPORT_NAMES = { webtransport: 'WebTransport', websocket: 'WebSocket' } as const;

/**
 * The chat page: a conversation list beside the open conversation, with
 * presence, typing, delivery ticks, groups, the safety-number screen and the
 * transport in use. All state lives in the SDK client; this only renders it.
 */
export class ChatApp {
  readonly #client: PulseClient;
  readonly #root: HTMLElement;
  /** Conversations opened by hand that have no message yet (a new contact, say). */
  readonly #opened = new Set<string>();
  readonly #unread = new Map<string, number>();
  readonly #typing = new Map<string, ReturnType<typeof setTimeout>>();
  #current: string | undefined;
  #typingSentAt = 0;
  #warning: string | undefined;

  // Long-lived elements, re-filled on events.
  readonly #layout = h('div', { class: 'layout' });
  readonly #transport = h('span', { class: 'badge', testid: 'transport' });
  readonly #list = h('ul', { class: 'conversations', testid: 'conversations' });
  readonly #chat = h('section', { class: 'chat' });
  readonly #messages = h('div', { class: 'messages', testid: 'messages' });
  readonly #typingLine = h('div', { class: 'typing', testid: 'typing' });
  readonly #dialog = h('dialog');
  readonly #header = h('header');
  readonly #warningSlot = h('div');
  readonly #footer = h('div');
  #footerKey: string | undefined;

  constructor(client: PulseClient, root: HTMLElement) {
    this.#client = client;
    this.#root = root;
  }

  /** Shows the registration card until the profile has an account, then the chat. */
  async start(): Promise<void> {
    if (this.#client.account === undefined) await this.#registration();
    this.#subscribe();
    this.#renderShell();
    try {
      await this.#client.connect();
    } catch (error) {
      this.#setWarning(`Cannot connect yet (${describe(error)}); retrying in the background.`);
    }
    for (const contact of this.#client.contacts()) void this.#client.watchPresence(contact).catch(() => {});
    this.#renderAll();
  }

  // ---- registration ---------------------------------------------------------------------

  #registration(): Promise<void> {
    return new Promise((resolve) => {
      const input = h('input', {
        testid: 'register-name',
        attrs: { type: 'text', placeholder: 'your name, e.g. alice', autocomplete: 'off' },
      });
      const error = h('div', { class: 'error', testid: 'register-error' });
      const button = h('button', { testid: 'register', attrs: { type: 'submit' } }, 'Register');
      const form = h(
        'form',
        {
          on: {
            submit: async (event) => {
              event.preventDefault();
              button.disabled = true;
              error.textContent = '';
              try {
                await this.#client.register(input.value.trim().toLowerCase());
                resolve();
              } catch (e) {
                error.textContent = PulseError.is(e, 'ACCOUNT_EXISTS')
                  ? 'That name is taken: try another.'
                  : describe(e);
                button.disabled = false;
              }
            },
          },
        },
        input,
        button,
      );
      replaceChildren(
        this.#root,
        h(
          'div',
          { class: 'welcome' },
          h(
            'div',
            { class: 'card' },
            h('h1', {}, 'Pulse'),
            h('p', {}, 'Pick a name. Your keys are made on this device and never leave it unencrypted.'),
            form,
            error,
          ),
        ),
      );
      input.focus();
    });
  }

  // ---- events -------------------------------------------------------------------------------

  #subscribe(): void {
    const client = this.#client;
    client.on('status', (status) => this.#renderStatus(status));
    client.on('message', (message) => {
      if (message.conversation !== this.#current || document.visibilityState !== 'visible') {
        this.#unread.set(message.conversation, (this.#unread.get(message.conversation) ?? 0) + 1);
      }
      const key = `${message.conversation}|${message.from}`;
      clearTimeout(this.#typing.get(key));
      this.#typing.delete(key);
      if (message.direction === 'in') void notify(message, this.#titleOf(message.conversation));
      if (message.group === undefined && message.direction === 'in')
        void client.watchPresence(message.from).catch(() => {});
      this.#renderAll();
    });
    client.on('receipt', () => this.#renderMessages());
    client.on('presence', () => this.#renderAll());
    client.on('group', () => this.#renderAll());
    client.on('typing', ({ conversation, from, typing }) => {
      const key = `${conversation}|${from}`;
      clearTimeout(this.#typing.get(key));
      this.#typing.delete(key);
      if (typing) {
        this.#typing.set(
          key,
          setTimeout(() => {
            this.#typing.delete(key);
            this.#renderTyping();
          }, TYPING_MS * 2),
        );
      }
      this.#renderTyping();
    });
    client.on('identity_changed', ({ account }) => {
      this.#setWarning(`The safety number with ${account} changed. Check it before sending anything sensitive.`);
    });
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && this.#current !== undefined) {
        this.#unread.delete(this.#current);
        this.#renderList();
      }
    });
  }

  // ---- rendering ------------------------------------------------------------------------------

  #renderShell(): void {
    const contactInput = h('input', {
      testid: 'contact-name',
      attrs: { type: 'text', placeholder: 'Start a chat: name', autocomplete: 'off' },
    });
    const newChat = h(
      'form',
      {
        class: 'new',
        on: {
          submit: (event) => {
            event.preventDefault();
            const name = contactInput.value.trim().toLowerCase();
            if (name === '') return;
            contactInput.value = '';
            this.#open(`user:${name}`);
            void this.#client.watchPresence(name).catch(() => {});
          },
        },
      },
      contactInput,
      h('button', { testid: 'add-contact', attrs: { type: 'submit', title: 'Start a chat' } }, '+'),
    );
    const previewToggle = h('input', {
      testid: 'notification-preview',
      attrs: { type: 'checkbox' },
      on: { change: () => setPreviewAllowed(previewToggle.checked) },
    });
    previewToggle.checked = previewAllowed();
    const sidebar = h(
      'aside',
      { class: 'sidebar' },
      h(
        'div',
        { class: 'me' },
        h('strong', { testid: 'me' }, this.#client.account ?? ''),
        h('span', { class: 'badge' }, `device ${this.#client.deviceId ?? '?'} · `, this.#transport),
      ),
      newChat,
      h(
        'div',
        { class: 'new' },
        h('button', { class: 'secondary', testid: 'new-group', on: { click: () => this.#groupDialog() } }, 'New group'),
        h(
          'button',
          { class: 'secondary', testid: 'enable-notifications', on: { click: () => void enableNotifications() } },
          'Notifications',
        ),
      ),
      this.#list,
      h('label', { class: 'settings' }, h('span', {}, previewToggle, ' Show message text in notifications')),
    );
    replaceChildren(this.#root, this.#layout, this.#dialog);
    replaceChildren(this.#layout, sidebar, this.#chat);
    this.#renderStatus(this.#client.status);
  }

  #renderAll(): void {
    this.#renderList();
    this.#renderChat();
  }

  #renderStatus(status: ConnectionStatus): void {
    const dot = h('span', { class: `dot ${status.state === 'connected' ? 'on' : 'wait'}` });
    const label =
      status.state === 'connected' && status.transport !== undefined
        ? TRANSPORT_NAMES[status.transport]
        : status.state === 'reconnecting'
          ? 'reconnecting…'
          : 'connecting…';
    this.#transport.dataset.state = status.state;
    this.#transport.dataset.transport = status.transport ?? '';
    replaceChildren(this.#transport, dot, label);
  }

  #renderList(): void {
    const ids = new Set([...this.#client.conversations().map((c) => c.id), ...this.#opened]);
    const items = [...ids].map((id) => {
      const last = this.#client.messages(id).at(-1);
      const unread = this.#unread.get(id) ?? 0;
      const online = id.startsWith('user:') && this.#client.isOnline(id.slice(5));
      return h(
        'li',
        {
          class: id === this.#current ? 'active' : '',
          testid: `conversation-${id}`,
          on: { click: () => this.#open(id) },
        },
        h(
          'span',
          { class: 'title' },
          id.startsWith('user:')
            ? h('span', {
                class: `dot ${online ? 'on' : ''}`,
                testid: `presence-${id.slice(5)}`,
                attrs: { 'data-online': String(online) },
              })
            : '#',
          this.#titleOf(id),
          unread > 0 && h('span', { class: 'unread' }, String(unread)),
        ),
        h(
          'span',
          { class: 'preview' },
          last === undefined ? 'No messages yet' : `${last.direction === 'out' ? 'You: ' : ''}${last.text}`,
        ),
      );
    });
    replaceChildren(this.#list, ...items);
  }

  #renderChat(): void {
    const id = this.#current;
    if (id === undefined) {
      this.#footerKey = undefined;
      replaceChildren(
        this.#chat,
        this.#warningBar(),
        h('div', { class: 'empty' }, 'Pick a conversation, or start one with a name.'),
      );
      return;
    }
    const isGroup = id.startsWith('group:');
    const group = isGroup ? this.#client.findGroup(id.slice(6)) : undefined;
    const actions: Node[] = [];
    if (isGroup && group !== undefined && !group.left) {
      const me = this.#client.account;
      const members = group.members.map((m) =>
        h(
          'span',
          { class: 'badge' },
          h('span', { class: `dot ${m === me || this.#client.isOnline(m) ? 'on' : ''}` }),
          m === me ? `${m} (you)` : m,
        ),
      );
      actions.push(h('span', { class: 'badge', testid: 'members' }, ...members));
      actions.push(
        h(
          'button',
          { class: 'secondary', testid: 'add-member', on: { click: () => this.#memberDialog(group.id, 'add') } },
          'Add',
        ),
      );
      actions.push(
        h(
          'button',
          { class: 'secondary', testid: 'remove-member', on: { click: () => this.#memberDialog(group.id, 'remove') } },
          'Remove',
        ),
      );
    } else if (!isGroup) {
      const online = this.#client.isOnline(id.slice(5));
      actions.push(
        h(
          'span',
          { class: 'badge', testid: 'peer-presence' },
          h('span', { class: `dot ${online ? 'on' : ''}` }),
          online ? 'online' : 'offline',
        ),
      );
      actions.push(
        h(
          'button',
          { class: 'secondary', testid: 'safety', on: { click: () => void this.#safetyDialog(id.slice(5)) } },
          'Safety number',
        ),
      );
    }
    if (this.#chat.firstChild !== this.#header) {
      replaceChildren(this.#chat, this.#header, this.#warningSlot, this.#messages, this.#typingLine, this.#footer);
    }
    replaceChildren(
      this.#header,
      h('h2', { testid: 'chat-title' }, isGroup ? `# ${this.#titleOf(id)}` : this.#titleOf(id)),
      h('span', { class: 'spacer' }),
      ...actions,
    );
    replaceChildren(this.#warningSlot, this.#warningBar());
    // The composer survives re-renders (incoming messages, presence): typing is never lost.
    const footerKey = `${id}|${group?.left === true}`;
    if (this.#footerKey !== footerKey) {
      this.#footerKey = footerKey;
      replaceChildren(
        this.#footer,
        group?.left === true ? h('div', { class: 'warning' }, 'You were removed from this group.') : this.#composer(id),
      );
    }
    this.#renderMessages();
    this.#renderTyping();
  }

  #composer(id: string): HTMLFormElement {
    const isGroup = id.startsWith('group:');
    const input = h('input', {
      testid: 'composer',
      attrs: { type: 'text', placeholder: 'Message (end-to-end encrypted)', autocomplete: 'off' },
    });
    input.addEventListener('input', () => {
      const now = Date.now();
      if (now - this.#typingSentAt < TYPING_MS) return;
      this.#typingSentAt = now;
      void this.#client.setTyping(isGroup ? id : id.slice(5), true);
    });
    const composer = h(
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
            try {
              if (isGroup) await this.#client.sendGroupText(id.slice(6), text);
              else await this.#client.sendText(id.slice(5), text);
              this.#opened.delete(id);
              this.#setWarning(undefined);
            } catch (error) {
              input.value = text;
              this.#setWarning(describe(error));
            }
            this.#renderAll();
            this.#focusComposer();
          },
        },
      },
      input,
      h('button', { testid: 'send', attrs: { type: 'submit' } }, 'Send'),
    );
    return composer;
  }

  #renderMessages(): void {
    const id = this.#current;
    if (id === undefined) return;
    const isGroup = id.startsWith('group:');
    const bubbles = this.#client.messages(id).map((m: StoredMessage) => {
      const mine = m.direction === 'out';
      const ticks = mine ? TICKS[m.status ?? 'sent'] : '';
      return h(
        'div',
        {
          class: `bubble ${mine ? 'mine' : ''}`,
          testid: 'message',
          attrs: { 'data-from': m.from, 'data-status': m.status ?? '' },
        },
        isGroup && !mine && h('span', { class: 'sender' }, m.from),
        h('span', { class: 'text' }, m.text),
        h(
          'span',
          { class: 'meta' },
          new Date(m.sentAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) + ticks,
        ),
      );
    });
    replaceChildren(this.#messages, ...bubbles);
    this.#messages.scrollTop = this.#messages.scrollHeight;
  }

  #renderTyping(): void {
    const id = this.#current;
    const who = [...this.#typing.keys()].filter((key) => key.startsWith(`${id}|`)).map((key) => key.split('|')[1]);
    this.#typingLine.textContent =
      who.length === 0 ? '' : `${who.join(', ')} ${who.length === 1 ? 'is' : 'are'} typing…`;
  }

  #warningBar(): Node | undefined {
    return this.#warning === undefined ? undefined : h('div', { class: 'warning', testid: 'warning' }, this.#warning);
  }

  #setWarning(text: string | undefined): void {
    this.#warning = text;
    this.#renderChat();
  }

  #open(id: string): void {
    this.#current = id;
    const group = id.startsWith('group:') ? this.#client.findGroup(id.slice(6)) : undefined;
    for (const member of group?.members ?? []) {
      if (member !== this.#client.account) void this.#client.watchPresence(member).catch(() => {});
    }
    if (this.#client.messages(id).length === 0) this.#opened.add(id);
    this.#unread.delete(id);
    this.#layout.classList.add('in-chat');
    this.#renderAll();
    this.#focusComposer();
  }

  #focusComposer(): void {
    this.#chat.querySelector<HTMLInputElement>('[data-testid=composer]')?.focus();
  }

  #titleOf(id: string): string {
    return id.startsWith('group:') ? (this.#client.findGroup(id.slice(6))?.name ?? 'group') : id.slice(5);
  }

  // ---- dialogs --------------------------------------------------------------------------------

  #showDialog(title: string, body: Node[], actions: Node[]): void {
    replaceChildren(
      this.#dialog,
      h('h3', {}, title),
      ...body,
      h(
        'div',
        { class: 'actions' },
        h('button', { class: 'secondary', testid: 'dialog-close', on: { click: () => this.#dialog.close() } }, 'Close'),
        ...actions,
      ),
    );
    if (!this.#dialog.open) this.#dialog.showModal();
  }

  async #safetyDialog(account: string): Promise<void> {
    try {
      const safety = await this.#client.safetyNumber(account);
      const body: Node[] = [
        h(
          'p',
          {},
          `Compare these numbers with ${account}, in person or over a call you trust. If they match, nobody is in between.`,
        ),
        ...safety.numbers.map((n) =>
          h(
            'div',
            { class: 'numbers', testid: 'safety-number' },
            safety.numbers.length > 1 ? `device ${n.deviceId}: ${n.number}` : n.number,
          ),
        ),
        h(
          'p',
          { testid: 'safety-state' },
          safety.changedDevices.length > 0
            ? `⚠ ${account}'s key changed.`
            : safety.verified
              ? '✓ Verified'
              : 'Not verified yet',
        ),
      ];
      const verify = h(
        'button',
        {
          testid: 'mark-verified',
          on: {
            click: async () => {
              await this.#client.markVerified(account);
              this.#setWarning(undefined);
              await this.#safetyDialog(account);
            },
          },
        },
        'They match: mark verified',
      );
      this.#showDialog(`Safety number with ${account}`, body, safety.verified ? [] : [verify]);
    } catch (error) {
      this.#setWarning(describe(error));
    }
  }

  #groupDialog(): void {
    const name = h('input', { testid: 'group-name', attrs: { type: 'text', placeholder: 'team' } });
    const members = h('input', { testid: 'group-members', attrs: { type: 'text', placeholder: 'bob, carol' } });
    const error = h('div', { class: 'error' });
    const create = h(
      'button',
      {
        testid: 'create-group',
        on: {
          click: async () => {
            create.disabled = true;
            try {
              const list = members.value
                .split(/[\s,]+/)
                .map((m) => m.trim().toLowerCase())
                .filter((m) => m !== '');
              const group = await this.#client.createGroup(name.value.trim() || 'group', list);
              this.#dialog.close();
              this.#open(`group:${group.id}`);
            } catch (e) {
              error.textContent = describe(e);
              create.disabled = false;
            }
          },
        },
      },
      'Create',
    );
    this.#showDialog('New group', [h('label', {}, 'Name'), name, h('label', {}, 'Members'), members, error], [create]);
    name.focus();
  }

  #memberDialog(groupId: string, action: 'add' | 'remove'): void {
    const input = h('input', { testid: 'member-name', attrs: { type: 'text', placeholder: 'name' } });
    const error = h('div', { class: 'error' });
    const confirm = h(
      'button',
      {
        testid: 'confirm-member',
        on: {
          click: async () => {
            try {
              const account = input.value.trim().toLowerCase();
              if (action === 'add') await this.#client.addMember(groupId, account);
              else await this.#client.removeMember(groupId, account);
              this.#dialog.close();
              this.#renderAll();
            } catch (e) {
              error.textContent = describe(e);
            }
          },
        },
      },
      action === 'add' ? 'Add' : 'Remove',
    );
    this.#showDialog(action === 'add' ? 'Add a member' : 'Remove a member', [input, error], [confirm]);
    input.focus();
  }
}

function describe(error: unknown): string {
  if (PulseError.is(error, 'UNKNOWN_CONTACT')) return error.message;
  if (PulseError.is(error)) return `${error.message} (${error.code})`;
  return error instanceof Error ? error.message : String(error);
}
