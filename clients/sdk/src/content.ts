import { type ChannelControl, decodeChannelControl } from './encrypted-channels/control.ts';
import { PulseError } from './errors.ts';

/**
 * What travels inside the end-to-end encryption: the server never sees any of
 * this. Encoded as UTF-8 JSON, validated field by field on the way in (a peer's
 * plaintext is still untrusted input).
 */
export type Content =
  /** A chat message. `to` is set only in the copy a sender's own other devices get. */
  | { t: 'text'; id: string; text: string; sentAt: number; group?: string; to?: string }
  /** Delivery receipt for message ids. */
  | { t: 'receipt'; ids: string[] }
  | { t: 'typing'; typing: boolean; group?: string }
  /** Group membership (full member list after the change) and the sender's own sender key. */
  | { t: 'group'; group: string; name: string; members: string[]; removed: string[]; senderKey?: string }
  /** A member's sender key for a group it already knows. */
  | { t: 'sender_key'; group: string; distribution: string }
  /** An encrypted channel's membership, or a member's sender key for it (encrypted-channels/control.ts). */
  | ChannelControl;

/** The first byte of every envelope payload: how the rest is encrypted. */
export const PAYLOAD_KIND = { session: 1, group: 2 } as const;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Plaintexts are padded before encryption so ciphertext lengths reveal only a
 * coarse size class: Signal's scheme, a 0x80 byte then zeros up to a multiple
 * of 160 bytes (libsignal-service PushTransportDetails).
 */
const PADDING_BLOCK = 160;

/**
 * `profileKey` (base64): the sender's profile key, beside the content as `pk`
 * (PROTOCOL.md "Sealed sender"; Signal's DataMessage.profileKey): the recipient
 * derives the sender's delivery token from it.
 */
export function encodeContent(content: Content, profileKey?: string): Uint8Array {
  const json = encoder.encode(JSON.stringify(profileKey === undefined ? content : { ...content, pk: profileKey }));
  const padded = new Uint8Array((Math.floor(json.length / PADDING_BLOCK) + 1) * PADDING_BLOCK);
  padded.set(json);
  padded[json.length] = 0x80;
  return padded;
}

function unpad(bytes: Uint8Array): Uint8Array {
  let end = bytes.length - 1;
  while (end >= 0 && bytes[end] === 0) end--;
  if (end < 0 || bytes[end] !== 0x80) throw new PulseError('BAD_INPUT', 'message content is not padded');
  return bytes.subarray(0, end);
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const ACCOUNT = /^[a-z0-9][a-z0-9._-]{2,31}$/;

type ContentLimits = { maxTextLength: number; maxGroupMembers: number };

export function decodeContent(bytes: Uint8Array, limits: ContentLimits): Content {
  return decodeEnvelopeContent(bytes, limits).content;
}

/** The content and the sender's profile key (`pk`, base64 of 32 bytes) when it sent one. */
export function decodeEnvelopeContent(
  bytes: Uint8Array,
  limits: ContentLimits,
): { content: Content; profileKey: string | undefined } {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(unpad(bytes)));
  } catch {
    throw new PulseError('BAD_INPUT', 'message content is not UTF-8 JSON');
  }
  const c = value as Record<string, unknown>;
  if (typeof c !== 'object' || c === null) throw new PulseError('BAD_INPUT', 'message content has a bad shape');
  if (c.pk !== undefined && (typeof c.pk !== 'string' || !PROFILE_KEY.test(c.pk))) {
    throw new PulseError('BAD_INPUT', 'message content has a bad pk');
  }
  return { content: contentOf(c, limits), profileKey: c.pk as string | undefined };
}

/** base64 of 32 bytes. */
const PROFILE_KEY = /^[A-Za-z0-9+/]{43}=$/;

function contentOf(c: Record<string, unknown>, limits: ContentLimits): Content {
  const bad = (field: string) => new PulseError('BAD_INPUT', `message content has a bad ${field}`);
  const optionalGroup = () => {
    if (c.group === undefined) return undefined;
    if (typeof c.group !== 'string' || !ID.test(c.group)) throw bad('group');
    return c.group;
  };
  switch (c.t) {
    case 'text': {
      if (typeof c.id !== 'string' || !ID.test(c.id)) throw bad('id');
      if (typeof c.text !== 'string' || c.text.length > limits.maxTextLength) throw bad('text');
      if (typeof c.sentAt !== 'number' || !Number.isSafeInteger(c.sentAt)) throw bad('sentAt');
      if (c.to !== undefined && (typeof c.to !== 'string' || !ACCOUNT.test(c.to))) throw bad('to');
      const group = optionalGroup();
      return {
        t: 'text',
        id: c.id,
        text: c.text,
        sentAt: c.sentAt,
        ...(group === undefined ? {} : { group }),
        ...(c.to === undefined ? {} : { to: c.to as string }),
      };
    }
    case 'receipt': {
      if (!Array.isArray(c.ids) || c.ids.length > 1000 || !c.ids.every((id) => typeof id === 'string' && ID.test(id)))
        throw bad('ids');
      return { t: 'receipt', ids: c.ids as string[] };
    }
    case 'typing': {
      if (typeof c.typing !== 'boolean') throw bad('typing');
      const group = optionalGroup();
      return { t: 'typing', typing: c.typing, ...(group === undefined ? {} : { group }) };
    }
    case 'group': {
      const group = optionalGroup();
      if (group === undefined) throw bad('group');
      if (typeof c.name !== 'string' || c.name.length > 200) throw bad('name');
      const accounts = (list: unknown) =>
        Array.isArray(list) &&
        list.length <= limits.maxGroupMembers &&
        list.every((a) => typeof a === 'string' && ACCOUNT.test(a));
      if (!accounts(c.members)) throw bad('members');
      if (!accounts(c.removed)) throw bad('removed');
      if (c.senderKey !== undefined && typeof c.senderKey !== 'string') throw bad('senderKey');
      return {
        t: 'group',
        group,
        name: c.name,
        members: c.members as string[],
        removed: c.removed as string[],
        ...(c.senderKey === undefined ? {} : { senderKey: c.senderKey as string }),
      };
    }
    case 'sender_key': {
      const group = optionalGroup();
      if (group === undefined) throw bad('group');
      if (typeof c.distribution !== 'string' || c.distribution.length > 4096) throw bad('distribution');
      return { t: 'sender_key', group, distribution: c.distribution };
    }
    case 'channel':
    case 'channel_key':
      return decodeChannelControl(c, limits);
    default:
      throw bad('type');
  }
}

/** Envelope payload for a 1:1 session ciphertext. */
export function sessionPayload(ciphertext: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + ciphertext.length);
  out[0] = PAYLOAD_KIND.session;
  out.set(ciphertext, 1);
  return out;
}

/** Envelope payload for a group (sender key) ciphertext: kind, group id length, group id, ciphertext. */
export function groupPayload(groupId: string, ciphertext: Uint8Array): Uint8Array {
  const id = encoder.encode(groupId);
  const out = new Uint8Array(2 + id.length + ciphertext.length);
  out[0] = PAYLOAD_KIND.group;
  out[1] = id.length;
  out.set(id, 2);
  out.set(ciphertext, 2 + id.length);
  return out;
}

export type ParsedPayload =
  | { kind: 'session'; ciphertext: Uint8Array }
  | { kind: 'group'; groupId: string; ciphertext: Uint8Array };

export function parsePayload(payload: Uint8Array): ParsedPayload {
  if (payload[0] === PAYLOAD_KIND.session && payload.length > 1) {
    return { kind: 'session', ciphertext: payload.subarray(1) };
  }
  if (payload[0] === PAYLOAD_KIND.group && payload.length > 2) {
    const length = payload[1]!;
    if (payload.length > 2 + length) {
      let groupId: string;
      try {
        groupId = decoder.decode(payload.subarray(2, 2 + length));
      } catch {
        throw new PulseError('BAD_INPUT', 'group payload has a bad group id');
      }
      if (ID.test(groupId)) return { kind: 'group', groupId, ciphertext: payload.subarray(2 + length) };
    }
  }
  throw new PulseError('BAD_INPUT', 'unknown envelope payload kind');
}

/** Refuses text the SDK will not send: empty, or longer than `maxTextLength`. */
export function checkText(text: string, limits: { maxTextLength: number }): void {
  if (text.length === 0) throw new PulseError('BAD_INPUT', 'the message is empty');
  if (text.length > limits.maxTextLength) {
    throw new PulseError('BAD_INPUT', `the message is longer than ${limits.maxTextLength} characters`);
  }
}

/** A random id for messages and groups (URL-safe, 128 bits). */
export function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
