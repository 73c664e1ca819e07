import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConversationId, conversationKeyOf } from '../src/conversation-id.ts';

const account = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{2,31}$/);
const groupId = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);

describe('ConversationId', () => {
  it('keeps the stored string form: user:<account> and group:<groupId>', () => {
    expect(ConversationId.key(ConversationId.user('bob'))).toBe('user:bob');
    expect(ConversationId.key(ConversationId.group('0f3a9c'))).toBe('group:0f3a9c');
  });

  it('parses what it formats, for every account name and group id', () => {
    fc.assert(
      fc.property(account, groupId, (name, id) => {
        expect(ConversationId.parse(ConversationId.key(ConversationId.user(name)))).toEqual({
          kind: 'user',
          account: name,
        });
        expect(ConversationId.parse(ConversationId.key(ConversationId.group(id)))).toEqual({
          kind: 'group',
          groupId: id,
        });
      }),
    );
  });

  it('parses keys stored by earlier versions, whose ids may contain the separator', () => {
    expect(ConversationId.parse('user:alice.smith')).toEqual({ kind: 'user', account: 'alice.smith' });
    expect(ConversationId.parse('group:a:b')).toEqual({ kind: 'group', groupId: 'a:b' });
  });

  it('refuses strings that are not a conversation key', () => {
    for (const bad of ['', 'bob', 'user:', 'group:', 'USER:bob', 'channel:x', 'user', ' user:bob']) {
      expect(ConversationId.parse(bad)).toBeUndefined();
    }
  });

  it('compares by value, and the key of either form is the same', () => {
    expect(ConversationId.equals(ConversationId.user('bob'), ConversationId.user('bob'))).toBe(true);
    expect(ConversationId.equals(ConversationId.user('bob'), ConversationId.group('bob'))).toBe(false);
    expect(conversationKeyOf(ConversationId.group('g1'))).toBe('group:g1');
    expect(conversationKeyOf('group:g1')).toBe('group:g1');
  });
});
