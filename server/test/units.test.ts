import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authSignedMessage, deviceLinkSignedMessage, FrameCodec, registerSignedMessage } from '@pulse/proto';
import { describe, expect, it } from 'vitest';
import { loadOrCreateSecret, TokenIssuer } from '../src/core/auth/tokens.ts';
import { safeVerifier } from '../src/core/auth/verifier.ts';
import { authorizeChannel } from '../src/core/channels/acl.ts';
import type { Subscriber } from '../src/core/channels/channel.ts';
import { ChannelRegistry } from '../src/core/channels/registry.ts';
import { PulseError } from '../src/core/errors.ts';
import { KeyedBuckets, TokenBucket } from '../src/core/limits/token-bucket.ts';

describe('signed messages (proto/src/signed-messages.ts)', () => {
  const challenge = new Uint8Array(32).fill(0xcc);
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  it('lays out context, separator, challenge, account and tail exactly', () => {
    const auth = authSignedMessage(challenge, 'bob', 0x01020304);
    expect(hex(auth)).toBe(
      `${Buffer.from('pulse/v1/auth').toString('hex')}00${'cc'.repeat(32)}03${Buffer.from('bob').toString('hex')}01020304`,
    );
    const key = new Uint8Array(33).fill(5);
    expect(hex(registerSignedMessage(challenge, 'bob', key))).toBe(
      `${Buffer.from('pulse/v1/register').toString('hex')}00${'cc'.repeat(32)}03${Buffer.from('bob').toString('hex')}${'05'.repeat(33)}`,
    );
    expect(
      hex(deviceLinkSignedMessage(challenge, 'bob', key)).startsWith(
        Buffer.from('pulse/v1/device-link').toString('hex'),
      ),
    ).toBe(true);
  });
  it('refuses a challenge of the wrong length', () => {
    expect(() => authSignedMessage(new Uint8Array(31), 'bob', 1)).toThrow(RangeError);
  });
});

describe('token bucket', () => {
  it('allows a burst, then refuses with the wait until the next token', () => {
    const bucket = new TokenBucket(10, 3, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([0, 0, 0]);
    expect(bucket.take(0)).toBe(100);
    expect(bucket.take(50)).toBe(50);
    expect(bucket.take(100)).toBe(0);
  });

  it('keeps separate buckets per key and forgets full ones', () => {
    const buckets = new KeyedBuckets(1, 1);
    expect(buckets.take('a', 0)).toBe(0);
    expect(buckets.take('a', 0)).toBeGreaterThan(0);
    expect(buckets.take('b', 0)).toBe(0);
    buckets.sweep(10_000);
    expect(buckets.take('a', 10_000)).toBe(0);
  });
});

describe('access tokens', () => {
  const issuer = new TokenIssuer(new Uint8Array(32).fill(1));
  it('verifies its own unexpired tokens only', () => {
    const token = issuer.issue({ account: 'alice', deviceId: 3, expiresAt: 1000 });
    expect(issuer.verify(token, 999)).toEqual({ account: 'alice', deviceId: 3, expiresAt: 1000 });
    expect(issuer.verify(token, 1000)).toBeUndefined();
    const other = new TokenIssuer(new Uint8Array(32).fill(2));
    expect(other.verify(token, 0)).toBeUndefined();
    for (let i = 0; i < token.length; i++) {
      const tampered = token.slice();
      tampered[i]! ^= 0x01;
      expect(issuer.verify(tampered, 0)).toBeUndefined();
    }
    expect(issuer.verify(token.subarray(0, 20), 0)).toBeUndefined();
    expect(issuer.verify(new Uint8Array(0), 0)).toBeUndefined();
  });

  it('keeps the secret in the data directory, private, across restarts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulse-secret-'));
    try {
      const first = loadOrCreateSecret(dir);
      expect(loadOrCreateSecret(dir)).toEqual(first);
      expect(statSync(join(dir, 'server-secret')).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('signature verifier wrapper', () => {
  it('turns a throwing verifier into a refusal', () => {
    const verify = safeVerifier(() => {
      throw new Error('bad key');
    });
    expect(verify(new Uint8Array(1), new Uint8Array(1), new Uint8Array(64))).toBe(false);
  });
});

describe('channel rules', () => {
  const allowed = (channel: string, account: string, action: 'subscribe' | 'publish') => {
    try {
      authorizeChannel(channel, account, action);
      return true;
    } catch (error) {
      expect(error).toBeInstanceOf(PulseError);
      expect((error as PulseError).code).toBe('FORBIDDEN');
      return false;
    }
  };
  it('public: everyone; user: owner publishes; private: owner only; others refused', () => {
    expect(allowed('public:lobby', 'bob', 'publish')).toBe(true);
    expect(allowed('public:lobby/sub', 'bob', 'subscribe')).toBe(true);
    expect(allowed('user:alice', 'bob', 'subscribe')).toBe(true);
    expect(allowed('user:alice/status', 'bob', 'publish')).toBe(false);
    expect(allowed('user:alice/status', 'alice', 'publish')).toBe(true);
    expect(allowed('private:alice/sync', 'alice', 'subscribe')).toBe(true);
    expect(allowed('private:alice/sync', 'bob', 'subscribe')).toBe(false);
    expect(allowed('private:alice/sync', 'bob', 'publish')).toBe(false);
    expect(allowed('user:', 'bob', 'subscribe')).toBe(false);
    expect(allowed('lobby', 'bob', 'subscribe')).toBe(false);
    expect(allowed('admin:x', 'bob', 'subscribe')).toBe(false);
    expect(allowed('user:alicex', 'alice', 'publish')).toBe(false);
  });
});

describe('channel registry', () => {
  const codec = new FrameCodec();
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
    const registry = new ChannelRegistry(codec, { historySize: 10, maxChannelsTotal: 10, historyBytes: 1 << 20 });
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
    const registry = new ChannelRegistry(codec, { historySize: 2, maxChannelsTotal: 10, historyBytes: 1 << 20 });
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
    const registry = new ChannelRegistry(codec, { historySize: 2, maxChannelsTotal: 10, historyBytes: 1 << 20 });
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
    const registry = new ChannelRegistry(codec, { historySize: 100, maxChannelsTotal: 10, historyBytes: 1000 });
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
    const registry = new ChannelRegistry(codec, { historySize: 2, maxChannelsTotal: 1, historyBytes: 1 << 20 });
    const a = subscriber('alice');
    registry.publish('public:one', a.member, new Uint8Array([1]), 0);
    registry.subscribe('public:two', a, { presence: false, since: undefined });
    expect(() => registry.subscribe('public:three', a, { presence: false, since: undefined })).toThrow(
      expect.objectContaining({ code: 'TOO_MANY_CHANNELS' }),
    );
  });
});
