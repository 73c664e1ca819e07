/**
 * Runs operations one at a time, in call order: every operation that touches
 * the E2E sessions or the profile holds it (ratchets and dedupe state are
 * sequential). A failed operation does not block the ones after it.
 */
export class Lock {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(operation);
    this.#tail = result.catch(() => {});
    return result;
  }
}
