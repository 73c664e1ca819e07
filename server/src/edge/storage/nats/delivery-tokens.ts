import type { AccountDirectory } from './account-directory.ts';
import { readRevision } from './compare-and-set.ts';
import type { NatsLink } from './link.ts';
import { accountToken } from './names.ts';

/**
 * Each account's delivery token verifier (PROTOCOL.md "Sealed sender": the
 * SHA-256 of the token, never the token) in the accounts bucket, key
 * `token.<account>`. A new registration simply replaces the old one (last
 * writer wins, as in SQLite); only an existing account gets one.
 */
export class DeliveryTokens {
  readonly #link: NatsLink;
  readonly #accounts: AccountDirectory;

  constructor(link: NatsLink, accounts: AccountDirectory) {
    this.#link = link;
    this.#accounts = accounts;
  }

  verifier(account: string): Promise<Uint8Array | undefined> {
    return this.#link.run(async ({ accounts }) => (await readRevision(accounts, key(account))).value);
  }

  async set(account: string, verifier: Uint8Array): Promise<void> {
    if ((await this.#accounts.deviceIds(account)).length === 0) return;
    await this.#link.run(async ({ accounts }) => {
      await accounts.put(key(account), verifier);
    });
  }
}

function key(account: string): string {
  return `token.${accountToken(account)}`;
}
