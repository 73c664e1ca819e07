import { StoreConflict } from '../store.ts';

/** How often a decision is read and made again when the store reports that its inputs changed. */
export const DECISION_ATTEMPTS = 3;

/**
 * Runs `decideAndWrite` (read, decide, write with the read values as the
 * precondition) until the store accepts the write. StoreConflict means another
 * writer changed what was read, so reading again gives a fresh decision; after
 * DECISION_ATTEMPTS the conflict is a server fault (INTERNAL). Refusals
 * (PulseError) pass straight through.
 */
export async function retryOnConflict<T>(decideAndWrite: () => Promise<T>, attempts = DECISION_ATTEMPTS): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await decideAndWrite();
    } catch (error) {
      if (!(error instanceof StoreConflict) || attempt >= attempts) throw error;
    }
  }
}
