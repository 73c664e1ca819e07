import { FrameCodec } from '@pulse/proto';
import { describe, expect, it } from 'vitest';
import type { Subscriber } from '../../../src/core/channels/channel.ts';
import { MemoryChannelLog } from '../../../src/core/channels/memory-log.ts';
import { ChannelRegistry } from '../../../src/core/channels/registry.ts';
import type { ChannelLogBudget } from '../../../src/core/ports/channel-log.ts';
import type { PresenceShare, SharedMember } from '../../../src/core/ports/presence-share.ts';
import { countingRandom } from '../../helpers/fake-ports.ts';
import { ROOMY } from './channel-log-suite.ts';

describe('channel registry', () => {
  const codec = new FrameCodec();
  const subscriber = (account: string) => {
    const got: { bytes: Uint8Array; ephemeral: boolean; offset: number | undefined }[] = [];
    const s: Subscriber & { got: typeof got } = {
      member: { account, deviceId: 1, connectedAt: 5 },
      transport: account === 'carol' ? 'webtransport' : 'websocket',
      deliver: (_channel, bytes, ephemeral, offset) => got.push({ bytes, ephemeral, offset }),
      got,
    };
    return s;
  };
  const registryWith = (
    options: { historySize?: number; maxChannelsTotal?: number; maxChannelsPerAccount?: number } = {},
    budget: Partial<ChannelLogBudget> = {},
  ) => {
    const historySize = options.historySize ?? 10;
    const log = new MemoryChannelLog({ ...ROOMY, maxEntries: historySize, ...budget }, countingRandom());
    return new ChannelRegistry(codec, {
      log,
      historySize,
      maxChannelsTotal: options.maxChannelsTotal ?? 10,
      maxChannelsPerAccount: options.maxChannelsPerAccount,
    });
  };

  it('fans out one encoded buffer, with its offset, to every subscriber', async () => {
    const registry = registryWith();
    const a = subscriber('alice');
    const b = subscriber('bob');
    registry.join('public:x', a, { presence: false });
    registry.join('public:x', b, { presence: false });
    expect(await registry.publish('public:x', a.member, new Uint8Array([1]), 7)).toBe(1);
    expect(a.got).toHaveLength(1);
    expect(a.got[0]!.bytes).toBe(b.got[0]!.bytes);
    expect(a.got[0]!.offset).toBe(1);
    expect(codec.decode(a.got[0]!.bytes)).toMatchObject({ type: 'channel_message', offset: 1, serverTime: 7 });
  });

  it('replays from an offset the log still holds, else recovered=false', async () => {
    const registry = registryWith({ historySize: 2 });
    const a = subscriber('alice');
    for (let i = 0; i < 3; i++) await registry.publish('public:h', a.member, new Uint8Array([i]), 0);
    const { position } = await registry.replay('public:h', undefined, 0);
    expect(position.offset).toBe(3);
    const { epoch } = position;
    const replay = await registry.replay('public:h', { epoch, offset: 1 }, 0);
    expect(replay.recovered).toBe(true);
    expect(replay.missed.map((m) => [m.offset, codec.decode(m.bytes)])).toMatchObject([
      [2, { type: 'channel_message', offset: 2, payload: new Uint8Array([1]) }],
      [3, { type: 'channel_message', offset: 3 }],
    ]);
    expect((await registry.replay('public:h', { epoch, offset: 0 }, 0)).recovered).toBe(false);
    expect(await registry.replay('public:h', { epoch, offset: 3 }, 0)).toMatchObject({ recovered: true, missed: [] });
    expect((await registry.replay('public:h', { epoch, offset: 4 }, 0)).recovered).toBe(false);
    expect((await registry.replay('public:h', { epoch: 'another', offset: 3 }, 0)).recovered).toBe(false);
  });

  it('sends join/leave (ephemeral) only to presence subscribers and counts active channels', () => {
    const registry = registryWith();
    const actives: string[] = [];
    registry.onActiveChange = (transport, delta) => actives.push(`${transport}${delta > 0 ? '+' : '-'}`);
    const watcher = subscriber('alice');
    const quiet = subscriber('carol');
    const bob = subscriber('bob');
    registry.join('public:p', watcher, { presence: true });
    registry.join('public:p', quiet, { presence: false });
    registry.join('public:p', bob, { presence: false });
    registry.unsubscribe('public:p', bob);
    expect(watcher.got.map((g) => [codec.decode(g.bytes).type, g.ephemeral])).toEqual([
      ['presence_join', true],
      ['presence_join', true],
      ['presence_leave', true],
    ]);
    expect(quiet.got).toEqual([]);
    registry.unsubscribe('public:p', watcher);
    registry.unsubscribe('public:p', quiet);
    expect(registry.active).toBe(0);
    // The channel is counted ('all') when made, before alice's transport; then carol's; all leave.
    expect(actives).toEqual(['all+', 'websocket+', 'webtransport+', 'websocket-', 'webtransport-', 'all-']);
  });

  it('stops fanning out to a channel once its last subscriber left (it no longer follows the log)', async () => {
    const registry = registryWith();
    const a = subscriber('alice');
    registry.join('public:q', a, { presence: false });
    registry.unsubscribe('public:q', a);
    await registry.publish('public:q', a.member, new Uint8Array([1]), 0);
    expect(a.got).toEqual([]);
  });

  it('refuses a channel beyond the server-wide maximum of channels with subscribers', () => {
    const registry = registryWith({ maxChannelsTotal: 1 });
    const a = subscriber('alice');
    registry.join('public:two', a, { presence: false });
    expect(() => registry.join('public:three', a, { presence: false })).toThrow(
      expect.objectContaining({ code: 'TOO_MANY_CHANNELS' }),
    );
  });

  it('bounds the live channels one account creates (max_channels_per_account)', () => {
    const registry = registryWith({ maxChannelsTotal: 100, maxChannelsPerAccount: 2 });
    const mallory = subscriber('mallory');
    registry.join('public:m1', mallory, { presence: false });
    registry.join('public:m2', mallory, { presence: false });
    expect(() => registry.join('public:m3', mallory, { presence: false })).toThrow(
      expect.objectContaining({ code: 'TOO_MANY_CHANNELS' }),
    );
    // Others still create channels; mallory may once one of its own has no subscriber left.
    registry.join('public:a1', subscriber('alice'), { presence: false });
    registry.unsubscribe('public:m1', mallory);
    registry.join('public:m3', mallory, { presence: false });
  });

  it("keeps at most history_bytes_per_account of one account's publications, leaving the others' history alone", async () => {
    const registry = registryWith({ historySize: 100 }, { maxBytesPerAccount: 1_000 });
    const alice = subscriber('alice');
    const mallory = subscriber('mallory');
    await registry.publish('public:kept', alice.member, new Uint8Array(300), 0);
    const kept = (await registry.replay('public:kept', undefined, 0)).position;
    for (let i = 0; i < 20; i++) await registry.publish(`public:spam${i}`, mallory.member, new Uint8Array(300), 0);
    expect((await registry.replay('public:kept', { epoch: kept.epoch, offset: 0 }, 0)).recovered).toBe(true);
    // Its spam is sent, not kept: replay across it says so.
    const spam = (await registry.replay('public:spam19', undefined, 0)).position;
    expect((await registry.replay('public:spam19', { epoch: spam.epoch, offset: 0 }, 0)).recovered).toBe(false);
  });

  it("announces and lists no invisible subscriber; on user: channels only the owner's devices", () => {
    const registry = registryWith();
    const watcher = subscriber('alice');
    registry.join('public:p', watcher, { presence: true });
    const ghost = subscriber('bob');
    const joined = registry.join('public:p', ghost, { presence: false, invisible: true });
    expect(joined.members().map((m) => m.account)).toEqual(['alice']);
    registry.unsubscribe('public:p', ghost);
    expect(watcher.got).toEqual([]);
    // Followers of user:carol see carol's devices come and go, never each other.
    const dave = subscriber('dave');
    registry.join('user:carol', dave, { presence: true });
    const erin = subscriber('erin');
    const followed = registry.join('user:carol', erin, { presence: true });
    expect(dave.got).toEqual([]);
    registry.join('user:carol', subscriber('carol'), { presence: true });
    expect(dave.got.map((g) => codec.decode(g.bytes))).toMatchObject([
      { type: 'presence_join', member: { account: 'carol' } },
    ]);
    expect(followed.members().map((m) => m.account)).toEqual(['carol']);
  });

  it('applies the channel rules to join and publish (FORBIDDEN)', async () => {
    const registry = registryWith();
    expect(() => registry.join('private:bob', subscriber('alice'), { presence: false })).toThrow(
      expect.objectContaining({ code: 'FORBIDDEN' }),
    );
    await expect(registry.publish('user:bob', subscriber('alice').member, new Uint8Array(1), 0)).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
  });
});

describe('channel registry with presence shared across nodes', () => {
  const codec = new FrameCodec();
  /** A PresenceShare in memory: what this node set, and a way to play the other nodes. */
  const fakeShare = () => {
    const mine = new Map<string, readonly SharedMember[]>();
    const listeners = new Map<string, (members: readonly SharedMember[]) => void>();
    const share: PresenceShare = {
      set: (channel, members) => void mine.set(channel, members),
      watch: (channel, listener) => {
        listeners.set(channel, listener);
        return { ready: Promise.resolve(), stop: () => listeners.delete(channel) };
      },
      close: async () => {},
    };
    return { share, mine, others: (channel: string, members: SharedMember[]) => listeners.get(channel)?.(members) };
  };
  const subscriber = (account: string) => {
    const got: Uint8Array[] = [];
    const s: Subscriber & { got: typeof got } = {
      member: { account, deviceId: 1, connectedAt: 5 },
      transport: 'websocket',
      deliver: (_channel, bytes) => got.push(bytes),
      got,
    };
    return s;
  };

  it("publishes this node's visible members, merges the other nodes' and announces their joins and leaves", () => {
    const { share, mine, others } = fakeShare();
    const registry = new ChannelRegistry(codec, {
      log: new MemoryChannelLog(ROOMY, countingRandom()),
      historySize: 10,
      maxChannelsTotal: 10,
      presence: share,
    });
    const watcher = subscriber('alice');
    const channel = registry.join('public:c', watcher, { presence: true });
    registry.join('public:c', subscriber('ghost'), { presence: false, invisible: true });
    expect(mine.get('public:c')?.map((m) => m.account)).toEqual(['alice']);
    const remote = { account: 'bob', deviceId: 2, connectedAt: 9 };
    others('public:c', [remote]);
    others('public:c', [remote, { account: 'carol', deviceId: 1, connectedAt: 3 }]);
    expect(channel.members().map((m) => m.account)).toEqual(['alice', 'bob', 'carol']);
    others('public:c', [{ account: 'carol', deviceId: 1, connectedAt: 3 }]);
    expect(watcher.got.map((bytes) => codec.decode(bytes))).toMatchObject([
      { type: 'presence_join', member: { account: 'bob' } },
      { type: 'presence_join', member: { account: 'carol' } },
      { type: 'presence_leave', member: { account: 'bob' } },
    ]);
    registry.unsubscribe('public:c', watcher);
    expect(mine.get('public:c')).toEqual([]);
  });
});
