import { PulseError } from '../errors.ts';

/**
 * What members of an encrypted channel tell each other over their 1:1 sessions
 * (README "Encrypted channels"). Both travel inside the end-to-end encryption as
 * `Content` (content.ts), so the server sees neither the members nor the keys.
 */

/** Where a channel's log stood when a member was given access: replay starts there. */
export interface ChannelPosition {
  readonly epoch: string;
  readonly offset: number;
}

/**
 * Membership: the full member list after a change, who was removed, the channel's
 * key id (the Sender Key distribution id), and the sender's own sender key (absent
 * in the copy a removed member gets). `access` is set for a member being added.
 */
export interface ChannelMembership {
  t: 'channel';
  channel: string;
  key: string;
  members: string[];
  removed: string[];
  senderKey?: string;
  access?: ChannelPosition;
}

/** A member's sender key for a channel the recipient already knows (new device, rotation, new member). */
export interface ChannelSenderKey {
  t: 'channel_key';
  channel: string;
  distribution: string;
}

export type ChannelControl = ChannelMembership | ChannelSenderKey;

/**
 * Encrypted channels are multi-account, so they live in the `public:` namespace
 * (server/README.md "Channel rules"); the name is random by default so nobody
 * who was not told it finds the ciphertext. Same character set and length as the
 * wire's channel names (proto fields.ts).
 */
const CHANNEL = /^public:[A-Za-z0-9_.:@-]+(\/[A-Za-z0-9_.:@-]+)*$/;
const MAX_CHANNEL_LENGTH = 128;
const KEY_ID = /^[0-9a-f]{32}$/;
const ACCOUNT = /^[a-z0-9][a-z0-9._-]{2,31}$/;
/** A sender key distribution message is about 100 bytes; base64 of anything near this is not one. */
const MAX_DISTRIBUTION_LENGTH = 4096;
const MAX_EPOCH_LENGTH = 64;

export function isEncryptedChannelName(channel: string): boolean {
  return channel.length <= MAX_CHANNEL_LENGTH && CHANNEL.test(channel);
}

export function isChannelKeyId(key: string): boolean {
  return KEY_ID.test(key);
}

/** Validates a peer's `channel` or `channel_key` content field by field (its plaintext is untrusted input). */
export function decodeChannelControl(c: Record<string, unknown>, limits: { maxGroupMembers: number }): ChannelControl {
  const bad = (field: string) => new PulseError('BAD_INPUT', `channel content has a bad ${field}`);
  if (typeof c.channel !== 'string' || !isEncryptedChannelName(c.channel)) throw bad('channel');
  if (c.t === 'channel_key') {
    if (typeof c.distribution !== 'string' || c.distribution.length > MAX_DISTRIBUTION_LENGTH)
      throw bad('distribution');
    return { t: 'channel_key', channel: c.channel, distribution: c.distribution };
  }
  if (c.t !== 'channel') throw bad('type');
  if (typeof c.key !== 'string' || !isChannelKeyId(c.key)) throw bad('key');
  const accounts = (list: unknown): list is string[] =>
    Array.isArray(list) &&
    list.length <= limits.maxGroupMembers &&
    list.every((a) => typeof a === 'string' && ACCOUNT.test(a));
  if (!accounts(c.members)) throw bad('members');
  if (!accounts(c.removed)) throw bad('removed');
  if (c.senderKey !== undefined && (typeof c.senderKey !== 'string' || c.senderKey.length > MAX_DISTRIBUTION_LENGTH))
    throw bad('senderKey');
  const access = c.access === undefined ? undefined : decodePosition(c.access);
  if (access === null) throw bad('access');
  return {
    t: 'channel',
    channel: c.channel,
    key: c.key,
    members: c.members,
    removed: c.removed,
    ...(c.senderKey === undefined ? {} : { senderKey: c.senderKey as string }),
    ...(access === undefined ? {} : { access }),
  };
}

function decodePosition(value: unknown): ChannelPosition | null {
  if (typeof value !== 'object' || value === null) return null;
  const { epoch, offset } = value as Record<string, unknown>;
  if (typeof epoch !== 'string' || epoch.length === 0 || epoch.length > MAX_EPOCH_LENGTH) return null;
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) return null;
  return { epoch, offset };
}
