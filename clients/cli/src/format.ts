import type { ClientEvents, StoredMessage } from '@pulse/sdk';

/** One received message as a JSON line (`recv --json`). */
export function messageJson(message: StoredMessage, groupName: string | undefined): string {
  return JSON.stringify({
    id: message.id,
    sender: message.from,
    device: message.fromDevice,
    text: message.text,
    time: new Date(message.sentAt).toISOString(),
    group: message.group === undefined ? null : (groupName ?? message.group),
    groupId: message.group ?? null,
  });
}

/** Delivery state of an outgoing message: sending, stored by the server, on a recipient device, refused. */
export const TICKS = { pending: ' …', sent: ' ✓', delivered: ' ✓✓', failed: ' ✗ not sent' } as const;

/** One message as a chat line: `[14:03] bob: hello` or `[14:03] #team bob: hello`. */
export function messageLine(message: StoredMessage, groupName: string | undefined): string {
  const time = new Date(message.sentAt).toTimeString().slice(0, 5);
  const where = message.group === undefined ? '' : `#${groupName ?? message.group.slice(0, 8)} `;
  const status = message.direction === 'out' ? TICKS[message.status ?? 'sent'] : '';
  return `[${time}] ${where}${message.from}: ${message.text}${status}`;
}

/** `bob added a device "phone" (2026-11-30T07:00:00.000Z)`; this account's own devices say "you". */
export function deviceAddedLine(event: ClientEvents['device_added']): string {
  const who = event.own ? 'you (this account)' : event.account;
  return `${who} added a device "${event.name}" (device ${event.deviceId}, ${new Date(event.addedAt).toISOString()})`;
}

/** `bob removed a device "phone"`. */
export function deviceRemovedLine(event: ClientEvents['device_removed']): string {
  const who = event.own ? 'you (this account)' : event.account;
  return `${who} removed a device "${event.name}" (device ${event.deviceId})`;
}
