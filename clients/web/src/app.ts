import { type ClientEvents, ConversationId, type PulseClient } from '@pulse/sdk';
import { describeError } from './describe-error.ts';
import { DeviceNotices, describeDeviceEvent } from './device-notices.ts';
import { showDevices } from './dialogs/devices.ts';
import { Dialog } from './dialogs/dialog.ts';
import { showMemberChange, showNewGroup } from './dialogs/group.ts';
import { showSafetyNumber } from './dialogs/safety-number.ts';
import { h, replaceChildren } from './dom.ts';
import { notify } from './notifications.ts';
import { TypingIndicators } from './typing-indicators.ts';
import { ConversationList } from './views/conversation-list.ts';
import { ConversationView } from './views/conversation-view.ts';
import { sidebar } from './views/sidebar.ts';
import { signIn } from './views/sign-in.ts';
import { TransportBadge } from './views/transport-badge.ts';

/**
 * The chat page: a conversation list beside the open conversation, with
 * presence, typing, delivery ticks, groups, devices, the safety-number screen
 * and the transport in use. All state lives in the SDK client; this
 * coordinates the views (views/) and dialogs (dialogs/) and keeps only what the
 * page adds: which conversation is open, unread counts, device notices, the
 * warning line.
 */
export class ChatApp {
  readonly #client: PulseClient;
  readonly #root: HTMLElement;
  /** Conversations (keys) opened by hand that have no message yet (a new contact, say). */
  readonly #opened = new Set<string>();
  /** Messages that arrived while their conversation was not in view, by conversation key. */
  readonly #unread = new Map<string, number>();
  readonly #typing = new TypingIndicators(() => this.#renderTyping());
  /** Contacts' device changes, shown as lines in their conversations. */
  readonly #notices = new DeviceNotices();
  #current: ConversationId | undefined;
  #warning: string | undefined;

  readonly #layout = h('div', { class: 'layout' });
  readonly #transport = new TransportBadge();
  readonly #list = new ConversationList((conversation) => this.#open(conversation));
  readonly #view: ConversationView;
  readonly #dialog = new Dialog();

  constructor(client: PulseClient, root: HTMLElement) {
    this.#client = client;
    this.#root = root;
    this.#view = new ConversationView(client, {
      send: (conversation, text) => this.#send(conversation, text),
      showSafetyNumber: (account) => void showSafetyNumber(this.#dialog, client, account, (w) => this.#setWarning(w)),
      changeMembers: (groupId, action) =>
        showMemberChange(this.#dialog, client, groupId, action, () => this.#renderAll()),
    });
  }

  /** Shows the sign-in card until the profile has an account, then the chat. */
  async start(): Promise<void> {
    if (this.#client.account === undefined) await signIn(this.#client, this.#root);
    this.#subscribe();
    this.#renderShell();
    try {
      await this.#client.connect();
    } catch (error) {
      this.#setWarning(`Cannot connect yet (${describeError(error)}); retrying in the background.`);
    }
    for (const contact of this.#client.contacts()) void this.#client.watchPresence(contact).catch(() => {});
    this.#renderAll();
  }

  #subscribe(): void {
    const client = this.#client;
    client.on('status', (status) => this.#transport.render(status));
    client.on('message', (message) => {
      if (!this.#isOpen(message.conversation) || document.visibilityState !== 'visible') {
        this.#unread.set(message.conversation, (this.#unread.get(message.conversation) ?? 0) + 1);
      }
      this.#typing.clear(message.conversation, message.from);
      const conversation = ConversationId.parse(message.conversation);
      if (message.direction === 'in' && conversation !== undefined) void notify(message, this.#titleOf(conversation));
      if (message.group === undefined && message.direction === 'in')
        void client.watchPresence(message.from).catch(() => {});
      this.#renderAll();
    });
    client.on('receipt', () => this.#renderChat());
    client.on('presence', () => this.#renderAll());
    client.on('group', () => this.#renderAll());
    client.on('typing', ({ conversation, from, typing }) => {
      this.#typing.update(conversation, from, typing);
      this.#renderTyping();
    });
    client.on('identity_changed', ({ account }) => {
      this.#setWarning(
        `The safety number with ${account} changed. Sending to ${account} is stopped until you compare the new number and accept it ("Safety number").`,
      );
    });
    // README "Trust": contacts' device changes in their conversation; this account's own on the warning line.
    const deviceChange = (kind: 'added' | 'removed') => (event: ClientEvents['device_added']) => {
      const text = describeDeviceEvent(kind, event);
      if (event.own) this.#setWarning(text);
      else {
        this.#notices.add(event.account, text, Date.now());
        this.#renderChat();
      }
    };
    client.on('device_added', deviceChange('added'));
    client.on('device_removed', deviceChange('removed'));
    client.on('untrusted_device', ({ account, deviceId }) => {
      this.#setWarning(
        `⚠ The server lists a device ${deviceId} for ${account} that ${account}'s account did not sign. It got nothing; the message was not sent.`,
      );
    });
    client.on('device_list_refused', ({ account, reason }) => {
      this.#setWarning(
        `⚠ The server presented a device list for ${account} that its account did not sign, or an older one: refused (${reason}).`,
      );
    });
    client.on('link_request', ({ deviceName }) => {
      this.#setWarning(`"${deviceName}" asks to join this account: open "Devices" to compare its code and approve it.`);
    });
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && this.#current !== undefined) {
        this.#unread.delete(ConversationId.key(this.#current));
        this.#renderList();
      }
    });
  }

  #renderShell(): void {
    const side = sidebar(
      this.#client,
      { transportBadge: this.#transport.element, conversationList: this.#list.element },
      {
        startChat: (account) => {
          this.#open(ConversationId.user(account));
          void this.#client.watchPresence(account).catch(() => {});
        },
        newGroup: () => showNewGroup(this.#dialog, this.#client, (group) => this.#open(ConversationId.group(group.id))),
        devices: () => void showDevices(this.#dialog, this.#client),
      },
    );
    replaceChildren(this.#root, this.#layout, this.#dialog.element);
    replaceChildren(this.#layout, side, this.#view.element);
    this.#transport.render(this.#client.status);
  }

  #renderAll(): void {
    this.#renderList();
    this.#renderChat();
  }

  #renderList(): void {
    const keys = new Set([...this.#client.conversations().map((c) => c.id), ...this.#opened]);
    const entries = [...keys].flatMap((key) => {
      const conversation = ConversationId.parse(key);
      if (conversation === undefined) return [];
      return [
        {
          conversation,
          title: this.#titleOf(conversation),
          last: this.#client.messages(conversation).at(-1),
          unread: this.#unread.get(key) ?? 0,
          online: conversation.kind === 'user' && this.#client.isOnline(conversation.account),
          active: this.#isOpen(key),
        },
      ];
    });
    this.#list.render(entries);
  }

  #renderChat(): void {
    const current = this.#current;
    this.#view.render(current, current === undefined ? '' : this.#titleOf(current), this.#warning);
    this.#view.renderMessages(current, current === undefined ? [] : this.#notices.of(current));
    this.#renderTyping();
  }

  #renderTyping(): void {
    this.#view.renderTyping(this.#current === undefined ? [] : this.#typing.who(ConversationId.key(this.#current)));
  }

  #setWarning(text: string | undefined): void {
    this.#warning = text;
    this.#renderChat();
  }

  #open(conversation: ConversationId): void {
    this.#current = conversation;
    const key = ConversationId.key(conversation);
    const group = conversation.kind === 'group' ? this.#client.findGroup(conversation.groupId) : undefined;
    for (const member of group?.members ?? []) {
      if (member !== this.#client.account) void this.#client.watchPresence(member).catch(() => {});
    }
    if (this.#client.messages(conversation).length === 0) this.#opened.add(key);
    this.#unread.delete(key);
    this.#layout.classList.add('in-chat');
    this.#renderAll();
    this.#view.focusComposer();
  }

  /** Sends from the composer; a failure becomes the warning line. */
  async #send(conversation: ConversationId, text: string): Promise<boolean> {
    let sent = false;
    try {
      if (conversation.kind === 'group') await this.#client.sendGroupText(conversation.groupId, text);
      else await this.#client.sendText(conversation.account, text);
      this.#opened.delete(ConversationId.key(conversation));
      this.#setWarning(undefined);
      sent = true;
    } catch (error) {
      this.#setWarning(describeError(error));
    }
    this.#renderAll();
    this.#view.focusComposer();
    return sent;
  }

  #isOpen(key: string): boolean {
    return this.#current !== undefined && ConversationId.key(this.#current) === key;
  }

  #titleOf(conversation: ConversationId): string {
    return conversation.kind === 'group'
      ? (this.#client.findGroup(conversation.groupId)?.name ?? 'group')
      : conversation.account;
  }
}
