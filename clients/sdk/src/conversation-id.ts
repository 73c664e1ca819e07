/**
 * Which conversation a message belongs to: the 1:1 conversation with an account,
 * or a group. Code passes the tagged form around; the string form
 * (`user:<account>`, `group:<groupId>`) is the key history is stored under in
 * the profile (`ProfileState.conversations`, unread entries) and what pages use
 * in element ids. That string form is part of the stored profile: it never
 * changes, so profiles written by earlier versions keep loading.
 */
export type ConversationId =
  | { readonly kind: 'user'; readonly account: string }
  | { readonly kind: 'group'; readonly groupId: string };

/** The stable string form of a ConversationId. */
export type ConversationKey = `user:${string}` | `group:${string}`;

const USER = 'user:';
const GROUP = 'group:';

export const ConversationId = {
  /** The 1:1 conversation with `account`. */
  user(account: string): ConversationId {
    return { kind: 'user', account };
  },

  group(groupId: string): ConversationId {
    return { kind: 'group', groupId };
  },

  /** The string form, for storage keys and element ids. */
  key(id: ConversationId): ConversationKey {
    return id.kind === 'user' ? `${USER}${id.account}` : `${GROUP}${id.groupId}`;
  },

  /** Reads the string form; undefined for anything else (no known prefix, or nothing after it). */
  parse(key: string): ConversationId | undefined {
    if (key.startsWith(USER) && key.length > USER.length) return ConversationId.user(key.slice(USER.length));
    if (key.startsWith(GROUP) && key.length > GROUP.length) return ConversationId.group(key.slice(GROUP.length));
    return undefined;
  },

  equals(a: ConversationId, b: ConversationId): boolean {
    return ConversationId.key(a) === ConversationId.key(b);
  },
} as const;

/** The key of either form: public methods take a ConversationId or its string form. */
export function conversationKeyOf(conversation: ConversationId | string): string {
  return typeof conversation === 'string' ? conversation : ConversationId.key(conversation);
}
