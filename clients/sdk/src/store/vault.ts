/**
 * Where a profile's state lives between runs. The state is one byte string (the
 * serialized profile); a vault keeps it confidential at rest: a passphrase-sealed
 * file in Node (`file-vault.ts`), IndexedDB with a non-extractable key in the
 * browser (`indexeddb-vault.ts`), or memory in tests.
 */
export interface StateVault {
  /** The last saved state, or undefined for a fresh profile. */
  load(): Promise<Uint8Array | undefined>;
  /** Replaces the state durably. Saves are serialized by the caller. */
  save(state: Uint8Array): Promise<void>;
  /** Releases locks or handles. */
  close(): Promise<void>;
}

export class MemoryVault implements StateVault {
  #state: Uint8Array | undefined;

  async load(): Promise<Uint8Array | undefined> {
    return this.#state?.slice();
  }

  async save(state: Uint8Array): Promise<void> {
    this.#state = state.slice();
  }

  async close(): Promise<void> {}
}
