/**
 * Where the NATS store keeps what, under one prefix (several Pulse deployments,
 * or test runs, can share one NATS): two KV buckets and one stream.
 *
 * Account names are arbitrary strings; NATS subject tokens and KV keys are not
 * (no `.`, `*`, `>`, spaces): a name is written as `a` + base64url of its UTF-8,
 * which uses only [A-Za-z0-9_-] and is never empty.
 */
export class NatsNames {
  readonly prefix: string;

  constructor(prefix: string) {
    if (!/^[a-z][a-z0-9_]{0,31}$/.test(prefix)) throw new Error(`invalid NATS store prefix ${JSON.stringify(prefix)}`);
    this.prefix = prefix;
  }

  /** KV bucket: one record per account (its devices). */
  get accountsBucket(): string {
    return `${this.prefix}_accounts`;
  }

  /** KV bucket: one record per device (its prekeys). */
  get preKeysBucket(): string {
    return `${this.prefix}_prekeys`;
  }

  /** The stream of offline envelopes, one subject per recipient device. */
  get envelopeStream(): string {
    return `${this.prefix.toUpperCase()}_ENVELOPES`;
  }

  get envelopeSubjects(): string {
    return `${this.prefix}.envelopes.>`;
  }

  envelopeSubject(account: string, deviceId: number): string {
    return `${this.prefix}.envelopes.${accountToken(account)}.${deviceId}`;
  }

  /** Every device subject of one account (a filter). */
  accountEnvelopes(account: string): string {
    return `${this.prefix}.envelopes.${accountToken(account)}.*`;
  }

  /** The recipient named by an envelope subject, or undefined for a subject not of this store. */
  recipientOf(subject: string): { account: string; deviceId: number } | undefined {
    const parts = subject.split('.');
    if (parts.length !== 4 || parts[0] !== this.prefix || parts[1] !== 'envelopes') return undefined;
    const deviceId = Number(parts[3]);
    if (!Number.isSafeInteger(deviceId)) return undefined;
    return { account: accountOfToken(parts[2]!), deviceId };
  }

  accountKey(account: string): string {
    return accountToken(account);
  }

  preKeysKey(account: string, deviceId: number): string {
    return `${accountToken(account)}.${deviceId}`;
  }
}

export function accountToken(account: string): string {
  return `a${Buffer.from(account, 'utf8').toString('base64url')}`;
}

export function accountOfToken(token: string): string {
  return Buffer.from(token.slice(1), 'base64url').toString('utf8');
}
