import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { StoreConflict } from '../../../core/store.ts';

/** How often a compare-and-set is tried again after another writer changed the key first. */
const CAS_ATTEMPTS = 32;

/** True for JetStream's "wrong last sequence": the key (or subject) changed since it was read. */
export function isWrongLastSequence(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError &&
    (error.code === JetStreamApiCodes.StreamWrongLastSequence ||
      error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

/** A KV value as read: its bytes (undefined: no such key, or deleted) and the revision to write against. */
export interface Revision {
  readonly value: Uint8Array | undefined;
  /** The key's last revision (0: it never existed). */
  readonly revision: number;
}

export async function readRevision(kv: KV, key: string): Promise<Revision> {
  const entry = await kv.get(key);
  if (entry === null) return { value: undefined, revision: 0 };
  const deleted = entry.operation !== 'PUT';
  return { value: deleted ? undefined : entry.value, revision: entry.revision };
}

/**
 * Compare-and-set on one KV key: reads it, lets `change` compute the new value
 * from what it read (or throw StoreConflict when the caller's precondition does
 * not hold), and writes it only if nobody wrote the key in between (KV revision).
 * A write that lost the race reads again and re-applies `change`, so a
 * precondition is always checked on the value the write replaces. `change`
 * returning undefined writes nothing.
 */
export async function compareAndSet<T>(
  kv: KV,
  key: string,
  change: (current: Uint8Array | undefined) => { value: Uint8Array; result: T } | undefined,
): Promise<T | undefined> {
  for (let attempt = 1; ; attempt++) {
    const { value, revision } = await readRevision(kv, key);
    const next = change(value);
    if (next === undefined) return undefined;
    try {
      // No value (no key, or a deleted one): `create` succeeds only if there still is none.
      if (value === undefined) await kv.create(key, next.value);
      else await kv.update(key, next.value, revision);
      return next.result;
    } catch (error) {
      if (!isWrongLastSequence(error)) throw error;
      if (attempt >= CAS_ATTEMPTS) throw new StoreConflict(`${key} kept changing`);
    }
  }
}
