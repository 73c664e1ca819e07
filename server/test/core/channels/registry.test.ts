import { FrameCodec } from '@pulse/proto';
import { describe, expect, it } from 'vitest';
import type { Subscriber } from '../../../src/core/channels/channel.ts';
import { ChannelRegistry } from '../../../src/core/channels/registry.ts';
import { countingRandom } from '../../helpers/fake-ports.ts';

describe('channel registry', () => {
  const codec = new FrameCodec();
  const random = countingRandom();
  const subscriber = (account: string) => {
    const got: { bytes: Uint8Array; ephemeral: boolean }[] = [];
    const s: Subscriber & { got: typeof got } = {
      member: { account, deviceId: 1, connectedAt: 5 },
      transport: account === 'carol' ? 'webtransport' : 'websocket',
      deliver: (bytes, ephemeral) => got.push({ bytes, ephemeral }),
      got,
    };
    return s;
  };

  it('fans out one encoded buffer to every subscriber', () => {
    const registry = new ChannelRegistry(codec, {
      historySize: 10,
      maxChannelsTotal: 10,
      historyBytes: 1 << 20,
      random,
    });
    const a = subscriber('alice');
    const b = subscriber('bob');
    registry.subscribe('public:x', a, { presence: false, since: undefined });
    registry.subscribe('public:x', b, { presence: false, since: undefined });
    expect(registry.publish('public:x', a.member, new Uint8Array([1]), 7)).toBe(1);
    expect(a.got).toHaveLength(1);
    expect(a.got[0]!.bytes).toBe(b.got[0]!.bytes);
    expect(codec.decode(a.got[0]!.bytes)).toMatchObject({ type: 'channel_message', offset: 1, serverTime: 7 });
  });

  it('replays from an offset within the history, else recovered=false', () => {
    const registry = new ChannelRegistry(codec, {
      historySize: 2,
      maxChannelsTotal: 10,
      historyBytes: 1 << 20,
      random,
    });
    const a = subscriber('alice');
    const first = registry.subscribe('public:h', a, { presence: false, since: undefined });
    for (let i = 0; i < 3; i++) registry.publish('public:h', a.member, new Uint8Array([i]), 0);
    const epoch = first.channel.epoch;
    registry.unsubscribe('public:h', a);
    expect(registry.subscribe('public:h', a, { presence: false, since: { epoch, offset: 1 } })).toMatchObject({
      recovered: true,
      missed: [expect.any(Uint8Array), expect.any(Uint8Array)],
    });
    registry.unsubscribe('public:h', a);
    expect(registry.subscribe('public:h', a, { presence: false, since: { epoch, offset: 0 } }).recovered).toBe(false);
    registry.unsubscribe('public:h', a);
    expect(registry.subscribe('public:h', a, { presence: false, since: { epoch, offset: 3 } })).toMatchObject({
      recovered: true,
      missed: [],
    });
    registry.unsubscribe('public:h', a);
    expect(registry.subscribe('public:h', a, { presence: false, since: { epoch, offset: 4 } }).recovered).toBe(false);
  });

  it('sends join/leave (ephemeral) only to presence subscribers and counts active channels', () => {
    const registry = new ChannelRegistry(codec, {
      historySize: 2,
      maxChannelsTotal: 10,
      historyBytes: 1 << 20,
      random,
    });
    const actives: string[] = [];
    registry.onActiveChange = (transport, delta) => actives.push(`${transport}${delta > 0 ? '+' : '-'}`);
    const watcher = subscriber('alice');
    const quiet = subscriber('carol');
    const bob = subscriber('bob');
    registry.subscribe('public:p', watcher, { presence: true, since: undefined });
    registry.subscribe('public:p', quiet, { presence: false, since: undefined });
    registry.subscribe('public:p', bob, { presence: false, since: undefined });
    registry.unsubscribe('public:p', bob);
    expect(watcher.got.map((g) => [codec.decode(g.bytes).type, g.ephemeral])).toEqual([
      ['presence_join', true],
      ['presence_join', true],
      ['presence_leave', true],
    ]);
    expect(quiet.got).toEqual([]);
    registry.unsubscribe('public:p', watcher);
    registry.unsubscribe('public:p', quiet);
    // alice (websocket) first: websocket and all; carol adds webtransport; bob (websocket) changes nothing.
    expect(actives).toEqual(['websocket+', 'all+', 'webtransport+', 'websocket-', 'webtransport-', 'all-']);
  });

  it('keeps all histories within the byte budget: idle channels go first, then the oldest entries', () => {
    const registry = new ChannelRegistry(codec, { historySize: 100, maxChannelsTotal: 10, historyBytes: 1000, random });
    const a = subscriber('alice');
    const payload = new Uint8Array(200);
    registry.publish('public:idle', a.member, payload, 0);
    const busy = registry.subscribe('public:busy', a, { presence: false, since: undefined });
    for (let i = 0; i < 10; i++) {
      registry.publish('public:busy', a.member, payload, 0);
      expect(registry.historyBytes).toBeLessThanOrEqual(1000);
    }
    // The idle channel was forgotten, and the busy one keeps only its newest entries.
    const replay = busy.channel.replay({ epoch: busy.channel.epoch, offset: 0 });
    expect(replay.recovered).toBe(false);
    const recent = busy.channel.replay({ epoch: busy.channel.epoch, offset: 7 });
    expect(recent).toMatchObject({
      recovered: true,
      missed: [expect.any(Uint8Array), expect.any(Uint8Array), expect.any(Uint8Array)],
    });
    registry.subscribe('public:idle', a, { presence: false, since: undefined });
    expect(
      registry.subscribe('public:idle', subscriber('bob'), { presence: false, since: { epoch: 'x', offset: 0 } })
        .channel.offset,
    ).toBe(0);
  });

  it('forgets idle channels beyond the server-wide maximum, refuses when all are busy', () => {
    const registry = new ChannelRegistry(codec, { historySize: 2, maxChannelsTotal: 1, historyBytes: 1 << 20, random });
    const a = subscriber('alice');
    registry.publish('public:one', a.member, new Uint8Array([1]), 0);
    registry.subscribe('public:two', a, { presence: false, since: undefined });
    expect(() => registry.subscribe('public:three', a, { presence: false, since: undefined })).toThrow(
      expect.objectContaining({ code: 'TOO_MANY_CHANNELS' }),
    );
  });

  it('gives every channel instance a fresh epoch from the random source (16 hex digits)', () => {
    const registry = new ChannelRegistry(codec, { historySize: 2, maxChannelsTotal: 1, historyBytes: 1 << 20, random });
    const a = subscriber('alice');
    const first = registry.subscribe('public:e', a, { presence: false, since: undefined }).channel.epoch;
    registry.unsubscribe('public:e', a);
    // A second channel evicts the idle first one; subscribing again creates it anew.
    registry.publish('public:f', a.member, new Uint8Array([1]), 0);
    const again = registry.subscribe('public:e', a, { presence: false, since: undefined }).channel.epoch;
    expect(first).toMatch(/^[0-9a-f]{16}$/);
    expect(again).toMatch(/^[0-9a-f]{16}$/);
    expect(again).not.toBe(first);
  });
});
