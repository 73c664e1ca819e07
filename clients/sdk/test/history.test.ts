import { describe, expect, it } from 'vitest';
import { ConversationId } from '../src/conversation-id.ts';
import { History } from '../src/history.ts';
import type { HistoryRecord, StoredMessage } from '../src/profile.ts';

const limits = { maxHistoryPerConversation: 3, maxRememberedEnvelopes: 100 };

function message(
  conversation: StoredMessage['conversation'],
  id: string,
  direction: 'in' | 'out' = 'in',
): StoredMessage {
  return {
    id,
    conversation,
    from: direction === 'in' ? 'bob' : 'alice',
    fromDevice: 1,
    text: `text ${id}`,
    sentAt: 1,
    receivedAt: 1,
    direction,
    ...(direction === 'out' ? { status: 'sent' as const } : {}),
  };
}

/** A history whose saves are counted. */
function history(record: HistoryRecord = { conversations: {}, unread: [] }) {
  let saves = 0;
  const h = new History(record, limits, async () => {
    saves += 1;
  });
  return { history: h, record, saves: () => saves };
}

describe('History', () => {
  it('reads history stored under the string keys earlier versions wrote, by ConversationId or by key', () => {
    const stored: HistoryRecord = JSON.parse(
      JSON.stringify({
        conversations: { 'user:bob': [message('user:bob', 'm1')], 'group:g1': [message('group:g1', 'm2')] },
        unread: ['user:bob|m1'],
      }),
    );
    const { history: h } = history(stored);
    expect(h.keys()).toEqual(['user:bob', 'group:g1']);
    expect(h.messages(ConversationId.user('bob')).map((m) => m.id)).toEqual(['m1']);
    expect(h.messages('user:bob')).toBe(h.messages(ConversationId.user('bob')));
    expect(h.messages(ConversationId.group('g1')).map((m) => m.id)).toEqual(['m2']);
    expect(h.messages(ConversationId.user('nobody'))).toEqual([]);
  });

  it('writes new messages under the same keys and unread entries as conversation|id', () => {
    const { history: h, record } = history();
    h.add(message('user:bob', 'out1', 'out'));
    h.addUnread(message('group:g1', 'in1'));
    expect(Object.keys(record.conversations)).toEqual(['user:bob', 'group:g1']);
    expect(record.unread).toEqual(['group:g1|in1']);
  });

  it('keeps the newest maxHistoryPerConversation messages of each conversation', () => {
    const { history: h } = history();
    for (const id of ['a', 'b', 'c', 'd']) h.add(message('user:bob', id));
    h.add(message('user:carol', 'e'));
    expect(h.messages('user:bob').map((m) => m.id)).toEqual(['b', 'c', 'd']);
    expect(h.messages('user:carol').map((m) => m.id)).toEqual(['e']);
  });

  it('hands out unread messages once, oldest first, and saves that they were taken', async () => {
    const { history: h, record, saves } = history();
    h.addUnread(message('user:bob', 'm1'));
    h.addUnread(message('group:g1', 'm2'));
    record.unread.push('user:gone|m9'); // its message was dropped from history meanwhile
    expect((await h.takeUnread()).map((m) => m.id)).toEqual(['m1', 'm2']);
    expect(record.unread).toEqual([]);
    expect(saves()).toBe(1);
    expect(await h.takeUnread()).toEqual([]);
    expect(saves()).toBe(1);
  });

  it('marks only outgoing messages with the receipt’s ids as delivered', () => {
    const { history: h } = history();
    h.add(message('user:bob', 'mine', 'out'));
    h.add(message('user:bob', 'other', 'out'));
    h.add(message('user:bob', 'theirs', 'in'));
    h.markDelivered(ConversationId.user('bob'), ['mine', 'theirs']);
    expect(h.messages('user:bob').map((m) => m.status)).toEqual(['delivered', 'sent', undefined]);
  });
});
