/** How often a typing user's indicator is re-sent (and at most how often this page sends its own). */
export const TYPING_MS = 3_000;

/**
 * Who is typing in which conversation. Senders repeat the indicator every
 * TYPING_MS while typing, so one that is not repeated for twice that long
 * expires; a message from the typist ends it at once.
 */
export class TypingIndicators {
  /** `conversation|account` → the timer that expires the indicator. */
  readonly #active = new Map<string, ReturnType<typeof setTimeout>>();
  readonly #onExpired: () => void;

  constructor(onExpired: () => void) {
    this.#onExpired = onExpired;
  }

  /** A typing event from `from` in the conversation with key `conversation`. */
  update(conversation: string, from: string, typing: boolean): void {
    const key = `${conversation}|${from}`;
    this.clear(conversation, from);
    if (!typing) return;
    this.#active.set(
      key,
      setTimeout(() => {
        this.#active.delete(key);
        this.#onExpired();
      }, TYPING_MS * 2),
    );
  }

  /** `from` stopped typing in `conversation` (their message arrived). */
  clear(conversation: string, from: string): void {
    const key = `${conversation}|${from}`;
    clearTimeout(this.#active.get(key));
    this.#active.delete(key);
  }

  /** Who is typing in the conversation with key `conversation`. */
  who(conversation: string): string[] {
    const prefix = `${conversation}|`;
    return [...this.#active.keys()].filter((key) => key.startsWith(prefix)).map((key) => key.slice(prefix.length));
  }
}
