import { createHmac } from 'node:crypto';

/**
 * Where cluster mode keeps channels in NATS (README "Cluster mode"): one
 * stream, one subject per channel, and a KV bucket of channel heads.
 *
 * Channel names stay out of NATS: a subject carries a keyed hash of the name
 * (HMAC-SHA256, base64url), so an operator browsing subjects sees how many
 * channels there are and how busy each is, not what they are called. The key
 * is shared by every node (they must find the same subject: `[cluster]
 * subject_key`, cluster/subject-key.ts); a name guessed by whoever holds the key
 * can be confirmed. Message bodies (channel-record.ts)
 * hold the publisher's account and device and the payload as the client sent
 * it (ciphertext on encrypted channels), so the operator sees those.
 */
export class ChannelSubjects {
  readonly #key: Uint8Array;
  readonly prefix: string;

  constructor(prefix: string, key: Uint8Array) {
    if (!/^[a-z][a-z0-9_]{0,31}$/.test(prefix)) throw new Error(`invalid NATS prefix ${JSON.stringify(prefix)}`);
    this.prefix = prefix;
    this.#key = key;
  }

  get stream(): string {
    return `${this.prefix.toUpperCase()}_CHANNELS`;
  }

  get subjects(): string {
    return `${this.prefix}.channels.>`;
  }

  /** KV bucket: each channel's epoch while its subject may be empty (channel-heads.ts). */
  get headsBucket(): string {
    return `${this.prefix}_channel_heads`;
  }

  /** The channel's token: subject suffix and KV key ([A-Za-z0-9_-], 43 characters). */
  token(channel: string): string {
    return createHmac('sha256', this.#key).update(channel, 'utf8').digest('base64url');
  }

  subject(channel: string): string {
    return `${this.prefix}.channels.${this.token(channel)}`;
  }
}
