import type { QueuedBytes } from '../../../core/store.ts';
import { compareAndSet, readRevision } from './compare-and-set.ts';
import type { NatsLink } from './link.ts';
import { accountToken } from './names.ts';

/** Changes to the byte counters of accounts (positive: stored, negative: deleted). */
export class ByteDeltas {
  readonly #byAccount = new Map<string, { sent: number; received: number }>();

  add(account: string, kind: keyof QueuedBytes, bytes: number): void {
    const entry = this.#byAccount.get(account) ?? { sent: 0, received: 0 };
    entry[kind] += bytes;
    this.#byAccount.set(account, entry);
  }

  entries(): IterableIterator<[string, { sent: number; received: number }]> {
    return this.#byAccount.entries();
  }
}

const encode = (bytes: QueuedBytes): Uint8Array => new TextEncoder().encode(JSON.stringify(bytes));
const decode = (data: Uint8Array | undefined): QueuedBytes =>
  data === undefined ? { sent: 0, received: 0 } : (JSON.parse(new TextDecoder().decode(data)) as QueuedBytes);

/**
 * Payload bytes of undelivered envelopes per account (the byte quotas): a
 * counter per account in the accounts bucket, key `bytes.<account>`, moved by
 * compare-and-set after each append, ack, purge and drop. JetStream can count
 * messages per subject but not bytes, hence counters; they are moved after the
 * envelopes are written or deleted, so a node that dies in between leaves them
 * off by what it was writing (never below zero).
 */
export class QueuedByteCounters {
  readonly #link: NatsLink;

  constructor(link: NatsLink) {
    this.#link = link;
  }

  read(account: string): Promise<QueuedBytes> {
    return this.#link.run(async ({ accounts }) => decode((await readRevision(accounts, key(account))).value));
  }

  /** Applies `deltas`; a failure leaves the counters as they were (the envelopes are stored or deleted regardless). */
  async apply(deltas: ByteDeltas): Promise<void> {
    await this.#link
      .run(({ accounts }) =>
        Promise.all(
          [...deltas.entries()].map(([account, delta]) =>
            compareAndSet(accounts, key(account), (data) => {
              const now = decode(data);
              const next = {
                sent: Math.max(0, now.sent + delta.sent),
                received: Math.max(0, now.received + delta.received),
              };
              return { value: encode(next), result: next };
            }),
          ),
        ),
      )
      .catch(() => {});
  }
}

function key(account: string): string {
  return `bytes.${accountToken(account)}`;
}
