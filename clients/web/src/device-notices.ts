import { type ClientEvents, ConversationId } from '@pulse/sdk';

/** A line the page adds to a conversation (never sent, never stored): a contact's device change. */
export interface Notice {
  readonly text: string;
  readonly at: number;
}

type DeviceEvent = ClientEvents['device_added'];

/** "2026-11-30 07:00" in the reader's time zone. */
export function formatWhen(time: number): string {
  return new Date(time).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}

/**
 * What a device event says (README "Trust"): `bob added a device "phone"
 * (device 2, added …)`, `bob removed a device "phone" (device 2)`; for this
 * account's own devices, "You added…".
 */
export function describeDeviceEvent(kind: 'added' | 'removed', event: DeviceEvent): string {
  const who = event.own ? 'You' : event.account;
  const detail =
    kind === 'added' ? `device ${event.deviceId}, ${formatWhen(event.addedAt)}` : `device ${event.deviceId}`;
  return `${who} ${kind} a device "${event.name}" (${detail})`;
}

/**
 * The page's notices per conversation, kept for the life of the page: a
 * contact's device changes go into the conversation with that contact.
 */
export class DeviceNotices {
  readonly #byConversation = new Map<string, Notice[]>();

  add(account: string, text: string, at: number): void {
    const key = ConversationId.key(ConversationId.user(account));
    const list = this.#byConversation.get(key) ?? [];
    list.push({ text, at });
    this.#byConversation.set(key, list);
  }

  of(conversation: ConversationId): readonly Notice[] {
    return this.#byConversation.get(ConversationId.key(conversation)) ?? [];
  }
}
