import type { StoredMessage } from '@pulse/sdk';

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
