import type { ChannelEntry, Following } from '../ports/channel-log.ts';

/**
 * The followers of a channel log that lives in this process (memory, SQLite):
 * an append tells them before it settles, so a follow is ready at once.
 */
export class LocalFollowers {
  readonly #byChannel = new Map<string, Set<(entry: ChannelEntry) => void>>();

  follow(channel: string, listener: (entry: ChannelEntry) => void): Following {
    let listeners = this.#byChannel.get(channel);
    if (listeners === undefined) {
      listeners = new Set();
      this.#byChannel.set(channel, listeners);
    }
    listeners.add(listener);
    const followed = listeners;
    return {
      ready: Promise.resolve(),
      stop: () => {
        followed.delete(listener);
        if (followed.size === 0 && this.#byChannel.get(channel) === followed) this.#byChannel.delete(channel);
      },
    };
  }

  /** Whether anyone follows `channel` (its position is not forgotten meanwhile). */
  has(channel: string): boolean {
    return this.#byChannel.has(channel);
  }

  tell(channel: string, entry: ChannelEntry): void {
    for (const listener of this.#byChannel.get(channel) ?? []) listener(entry);
  }

  clear(): void {
    this.#byChannel.clear();
  }
}
