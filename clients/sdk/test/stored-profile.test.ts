import { describe, expect, it } from 'vitest';
import { ConversationId, CryptoEngine, MemoryVault, PulseClient } from '../src/index.ts';
import { decodeProfile, encodeProfile } from '../src/profile.ts';
import type { TransportFactories } from '../src/transport/types.ts';

/** Never used: these clients never connect. */
const noTransports: TransportFactories = {
  webSocket: () => {
    throw new Error('no network in this test');
  },
};

/** A profile's state exactly as the client before ConversationId wrote it (JSON inside the sealed state). */
const WRITTEN_BEFORE = {
  version: 1,
  server: 'http://127.0.0.1:8080',
  account: 'alice',
  deviceId: 1,
  deviceName: 'laptop',
  contacts: { bob: { devices: { '1': 'BQ==' }, verified: false, changed: {} } },
  groups: { g1: { id: 'g1', name: 'team', members: ['alice', 'bob'], distributedTo: [], left: false } },
  conversations: {
    'user:bob': [
      {
        id: 'm1',
        conversation: 'user:bob',
        from: 'alice',
        fromDevice: 1,
        text: 'hi bob',
        sentAt: 10,
        receivedAt: 10,
        direction: 'out',
        status: 'delivered',
      },
      {
        id: 'm2',
        conversation: 'user:bob',
        from: 'bob',
        fromDevice: 1,
        text: 'hi',
        sentAt: 20,
        receivedAt: 21,
        direction: 'in',
      },
    ],
    'group:g1': [
      {
        id: 'm3',
        conversation: 'group:g1',
        from: 'bob',
        fromDevice: 1,
        text: 'lunch?',
        sentAt: 30,
        receivedAt: 31,
        direction: 'in',
        group: 'g1',
      },
    ],
  },
  seenEnvelopes: ['e1', 'e2'],
  seenMessages: ['bob/m2', 'bob/m3'],
  transportMemory: {},
  unread: ['user:bob|m2', 'group:g1|m3'],
};

async function open(vault: MemoryVault): Promise<PulseClient> {
  return PulseClient.open({ vault, engine: CryptoEngine.factory(), factories: noTransports });
}

/** A vault holding WRITTEN_BEFORE beside a real engine state. */
async function vaultWrittenBefore(): Promise<MemoryVault> {
  const vault = new MemoryVault();
  await (await open(vault)).close(); // a fresh identity: the engine's part of the stored bytes
  const { engine } = decodeProfile((await vault.load())!);
  await vault.save(encodeProfile(structuredClone(WRITTEN_BEFORE) as never, engine));
  return vault;
}

describe('a profile stored by earlier versions', () => {
  it('loads: history, conversations, groups, contacts and unread messages', async () => {
    const client = await open(await vaultWrittenBefore());
    try {
      expect(client.account).toBe('alice');
      expect(client.server).toBe('http://127.0.0.1:8080');
      expect(client.conversations().map(({ id, title }) => ({ id, title }))).toEqual([
        { id: 'group:g1', title: 'team' },
        { id: 'user:bob', title: 'bob' },
      ]);
      expect(client.messages(ConversationId.user('bob')).map((m) => m.text)).toEqual(['hi bob', 'hi']);
      expect(client.messages('user:bob').map((m) => m.status)).toEqual(['delivered', undefined]);
      expect(client.messages(ConversationId.group('g1')).map((m) => m.text)).toEqual(['lunch?']);
      expect(client.groups().map((g) => g.name)).toEqual(['team']);
      expect(client.contacts()).toEqual(['bob']);
      expect((await client.takeUnread()).map((m) => m.id)).toEqual(['m2', 'm3']);
    } finally {
      await client.close();
    }
  });

  it('is written back in the same form', async () => {
    const vault = await vaultWrittenBefore();
    const client = await open(vault);
    await client.takeUnread(); // a change, so the profile is saved
    await client.close();
    const { state } = decodeProfile((await vault.load())!);
    expect(state).toEqual({ ...WRITTEN_BEFORE, unread: [] });
  });
});
