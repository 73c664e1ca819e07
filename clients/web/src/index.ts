/**
 * @pulse/web as a library: the chat page's controller, for embedding it in
 * another page. The page served by the server boots from src/main.ts.
 */
export { ChatApp } from './app.ts';
export { notificationBody } from './notifications.ts';
