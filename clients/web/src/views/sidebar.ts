import type { PulseClient } from '@pulse/sdk';
import { h } from '../dom.ts';
import { enableNotifications, previewAllowed, setPreviewAllowed } from '../notifications.ts';

export interface SidebarHooks {
  /** The user asked to chat with `account` (typed in "Start a chat"). */
  startChat(account: string): void;
  /** The user asked for the "New group" dialog. */
  newGroup(): void;
  /** The user asked for the "Devices" dialog (this account's devices, link requests). */
  devices(): void;
}

/**
 * The sidebar: who this is (account, device, the transport badge), "Start a
 * chat", "New group", "Devices", notifications and their preview setting,
 * around the conversation list.
 */
export function sidebar(
  client: PulseClient,
  parts: { transportBadge: HTMLElement; conversationList: HTMLElement },
  hooks: SidebarHooks,
): HTMLElement {
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
          hooks.startChat(name);
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
  return h(
    'aside',
    { class: 'sidebar' },
    h(
      'div',
      { class: 'me' },
      h('strong', { testid: 'me' }, client.account ?? ''),
      h('span', { class: 'badge' }, `device ${client.deviceId ?? '?'} · `, parts.transportBadge),
    ),
    newChat,
    h(
      'div',
      { class: 'new' },
      h('button', { class: 'secondary', testid: 'new-group', on: { click: () => hooks.newGroup() } }, 'New group'),
      h('button', { class: 'secondary', testid: 'devices', on: { click: () => hooks.devices() } }, 'Devices'),
      h(
        'button',
        { class: 'secondary', testid: 'enable-notifications', on: { click: () => void enableNotifications() } },
        'Notifications',
      ),
    ),
    parts.conversationList,
    h('label', { class: 'settings' }, h('span', {}, previewToggle, ' Show message text in notifications')),
  );
}
