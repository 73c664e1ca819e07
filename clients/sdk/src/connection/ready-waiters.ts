/** Callers waiting for the connection to be ready; each gives up after its own timeout. */
export class ReadyWaiters {
  readonly #waiters = new Set<{ resolve(): void; reject(error: Error): void }>();

  /** Resolves at the next `resolveAll`; rejects at `rejectAll`, or with `timeout()` after `timeoutMs`. */
  wait(timeoutMs: number, timeout: () => Error): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error: Error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(timeout());
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  resolveAll(): void {
    for (const waiter of this.#waiters) waiter.resolve();
    this.#waiters.clear();
  }

  rejectAll(error: () => Error): void {
    for (const waiter of this.#waiters) waiter.reject(error());
    this.#waiters.clear();
  }
}
