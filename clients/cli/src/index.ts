/**
 * @pulse/cli as a library: the pieces of `pulse-chat` other tools may reuse.
 * The command itself is src/main.ts (run through bin/pulse-chat.js).
 */
export { runChat } from './chat.ts';
export { describeError, EXIT, exitCodeOf } from './exit-codes.ts';
export { messageJson, messageLine, TICKS } from './format.ts';
export { readPassphrase } from './passphrase.ts';
