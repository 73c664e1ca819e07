import type { StoredMessage } from '@pulse/sdk';

/**
 * System notifications for messages that arrive while the page is in the
 * background. By default they say only who wrote; the text is shown only when
 * the user turned that on (a local preference, kept in localStorage).
 */
const PREVIEW_KEY = 'pulse.notifications.preview';

export function previewAllowed(): boolean {
  return localStorage.getItem(PREVIEW_KEY) === 'yes';
}

export function setPreviewAllowed(allowed: boolean): void {
  localStorage.setItem(PREVIEW_KEY, allowed ? 'yes' : 'no');
}

export async function enableNotifications(): Promise<NotificationPermission> {
  if (!('Notification' in globalThis)) return 'denied';
  return Notification.permission === 'default' ? Notification.requestPermission() : Notification.permission;
}

/** What a notification for `message` says: never the plaintext unless `preview` is allowed. */
export function notificationBody(message: StoredMessage, preview: boolean): string {
  return preview ? message.text : 'New encrypted message';
}

export async function notify(message: StoredMessage, title: string): Promise<void> {
  if (document.visibilityState === 'visible') return;
  if (!('Notification' in globalThis) || Notification.permission !== 'granted') return;
  const body = notificationBody(message, previewAllowed());
  const options: NotificationOptions = { body, tag: message.conversation, icon: '/icon.svg' };
  const registration = await navigator.serviceWorker?.getRegistration();
  if (registration !== undefined) await registration.showNotification(title, options);
  else new Notification(title, options);
}
