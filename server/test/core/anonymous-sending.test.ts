import type { Frame, FrameOf } from '@pulse/proto';
import { describe, expect, it } from 'vitest';
import type { ServerLimits } from '../../src/core/limits/limits.ts';
import type { SealedSenderAuthority } from '../../src/core/ports/sealed-sender.ts';
import { REQUESTS } from '../../src/core/requests/table.ts';
import { key, outcome, Peer, startCore, T0 } from '../helpers/core-harness.ts';

/**
 * Anonymous connections in the core (PROTOCOL.md "Anonymous connections"): a
 * `hello` with `anonymous: true` gets a connection that never authenticates and
 * may only `sealed_send`, so the server handles a sealed envelope without
 * knowing the sending account; and its own bounds, each tried past its limit:
 * connections per address and in total, idle time, sealed sends per connection
 * and per address.
 */
const fakeAuthority: SealedSenderAuthority = {
  certificateTtlMs: 3_600_000,
  issueSenderCertificate: (fields) => new TextEncoder().encode(JSON.stringify(fields.account)),
  deliveryTokenVerifier: (token) => token.map((b) => b ^ 0x5a),
};
const BOB_TOKEN = new Uint8Array(32).fill(2);
const payload = new Uint8Array(16).fill(7);

const sealedTo = (to: string, deliveryToken = BOB_TOKEN): FrameOf<'sealed_send'> => ({
  type: 'sealed_send',
  id: 0,
  to,
  deliveryToken,
  envelopes: [{ deviceId: 1, payload }],
});

async function withBob(limits: Partial<ServerLimits> = {}) {
  const harness = startCore({ sealedSender: fakeAuthority, limits });
  const bob = await harness.register('bob');
  expect(outcome(await bob.request({ type: 'set_delivery_token', id: 0, token: BOB_TOKEN }))).toBe('ok');
  /** A connection from `address` that says hello anonymously; its `welcome` (or what came instead). */
  const anonymous = async (address: string) => {
    const peer = new Peer(harness.core, harness.scheduler, address);
    await peer.send({ type: 'hello', versions: [2], client: 'core-test', anonymous: true });
    return { peer, welcome: peer.frames.shift() as Frame };
  };
  /** Moves the clock by `ms`, one heartbeat round per second as the ticker would. */
  const pass = (ms: number) => {
    for (let done = 0; done < ms; done += 1_000) {
      harness.clock.time += Math.min(1_000, ms - done);
      harness.core.tick();
    }
  };
  return { ...harness, bob, anonymous, pass };
}

describe('anonymous connections', () => {
  it('carry a sealed send the server stores and delivers without knowing any sender', async () => {
    const { anonymous, bob, store, metrics } = await withBob();
    const { peer, welcome } = await anonymous('10.0.0.1');
    expect(welcome).toMatchObject({ type: 'welcome', anonymous: true });
    expect(metrics.count('anonymous:memory')).toBe(1);

    expect(outcome(await peer.request(sealedTo('bob')))).toBe('sent');
    const [delivered] = bob.take('deliver');
    expect(delivered).toMatchObject({ sealed: true, payload });
    expect(delivered).not.toHaveProperty('from');
    const [stored] = await store.pending('bob', 1, 0, 10, T0);
    expect(stored?.from).toBeUndefined();
    expect(metrics.count('sealed_send:memory:anonymous')).toBe(1);
    expect(metrics.count('sealed_send:memory:authenticated')).toBe(0);
    // With nobody to leave out, the envelopes address every device of the recipient, as from another account.
    const none = { ...sealedTo('bob'), envelopes: [] as { deviceId: number; payload: Uint8Array }[] };
    expect(outcome(await peer.request({ ...none, envelopes: [{ deviceId: 2, payload }] }))).toBe('DEVICES_MISMATCH');
    // The delivery token still decides who may be sent to.
    expect(outcome(await peer.request(sealedTo('bob', new Uint8Array(32).fill(9))))).toBe('UNAUTHORIZED');
  });

  it('never authenticate and accept nothing but sealed_send (and ping, pong)', async () => {
    const { anonymous } = await withBob();
    const { peer } = await anonymous('10.0.0.1');
    const refused: Frame[] = [
      { type: 'auth', id: 0, account: 'bob', deviceId: 1, signature: new Uint8Array(64) },
      { type: 'auth_token', id: 0, token: new Uint8Array(16) },
      {
        type: 'register',
        id: 0,
        account: 'carol',
        deviceName: 'd',
        identityKey: key(5),
        signature: new Uint8Array(64),
        accountKey: key(505),
        deviceList: {
          version: 1,
          devices: [{ deviceId: 1, identityKey: key(5), name: 'd', addedAt: T0 }],
          signature: new Uint8Array(64),
        },
      },
      { type: 'sender_certificate', id: 0 },
      { type: 'set_delivery_token', id: 0, token: BOB_TOKEN },
      { type: 'send', id: 0, to: 'bob', envelopes: [{ deviceId: 1, payload }] },
      { type: 'bundle_fetch', id: 0, account: 'bob' },
      { type: 'subscribe', id: 0, channel: 'news' },
    ];
    for (const frame of refused) expect(outcome(await peer.request(frame)), frame.type).toBe('AUTH_REQUIRED');
    await peer.send({ type: 'ping', nonce: 7 });
    expect(peer.take('pong')).toEqual([{ type: 'pong', nonce: 7 }]);
    // It answers the server's heartbeat like any connection: a pong is no refusal.
    expect(peer.take('error')).toHaveLength(refused.length);
    await peer.send({ type: 'pong', nonce: 7 });
    expect(peer.take('error')).toEqual([]);
    expect(outcome(await peer.request(sealedTo('bob')))).toBe('sent');
  });

  it('may make, by the request table, only sealed_send, pong and the requests allowed before hello', () => {
    const allowed = Object.entries(REQUESTS)
      .filter(([, entry]) => entry.phase === 'always' || ('anonymous' in entry && entry.anonymous === true))
      .map(([type]) => type);
    expect(allowed.sort()).toEqual(['close', 'hello', 'ping', 'pong', 'sealed_send']);
  });

  it('are asked for in hello: an ordinary connection may not sealed_send before auth_ok', async () => {
    const { connect } = await withBob();
    const plain = await connect();
    expect(outcome(await plain.request(sealedTo('bob')))).toBe('AUTH_REQUIRED');
  });

  it('are capped per address (max_anonymous_per_ip): one more is closed SERVER_BUSY', async () => {
    const { anonymous, metrics } = await withBob({ maxAnonymousPerIp: 2 });
    const first = await anonymous('10.0.0.1');
    await anonymous('10.0.0.1');
    const third = await anonymous('10.0.0.1');
    expect(third.welcome).toMatchObject({ type: 'close', code: 'SERVER_BUSY' });
    expect(third.peer.closedWith).toBe('SERVER_BUSY');
    expect(metrics.count('limit:memory:max_anonymous_per_ip')).toBe(1);
    expect(metrics.count('anonymous:memory')).toBe(2);
    // Another address is not affected; a closed connection gives its place back.
    expect((await anonymous('10.0.0.2')).welcome).toMatchObject({ type: 'welcome', anonymous: true });
    await first.peer.send({ type: 'close', code: 'SERVER_SHUTDOWN', reason: 'bye' });
    expect((await anonymous('10.0.0.1')).welcome).toMatchObject({ type: 'welcome', anonymous: true });
  });

  it('are capped in total (max_anonymous)', async () => {
    const { anonymous, metrics } = await withBob({ maxAnonymous: 3 });
    for (const n of [1, 2, 3]) expect((await anonymous(`10.0.1.${n}`)).welcome.type).toBe('welcome');
    expect((await anonymous('10.0.1.4')).welcome).toMatchObject({ type: 'close', code: 'SERVER_BUSY' });
    expect(metrics.count('limit:memory:max_anonymous')).toBe(1);
  });

  it('are closed IDLE_TIMEOUT after anonymous_idle without a sealed send, pings or not', async () => {
    const { anonymous, pass, metrics } = await withBob({ anonymousIdle: 60_000 });
    const { peer } = await anonymous('10.0.0.1');
    // Sending every 40 s, it outlives the 45 s an unauthenticated connection gets, and anonymous_idle.
    for (let i = 0; i < 4; i++) {
      pass(40_000);
      expect(outcome(await peer.request(sealedTo('bob')))).toBe('sent');
    }
    expect(peer.closedWith).toBeUndefined();
    // Then only pings: they keep the heartbeat happy, not the connection alive.
    for (let i = 0; i < 6; i++) {
      pass(10_000);
      await peer.send({ type: 'ping', nonce: i });
    }
    expect(peer.closedWith).toBeUndefined();
    pass(2_000);
    expect(peer.closedWith).toBe('IDLE_TIMEOUT');
    expect(peer.take('close')).toMatchObject([{ code: 'IDLE_TIMEOUT' }]);
    expect(metrics.count('limit:memory:anonymous_idle')).toBe(1);
    expect(metrics.count('anonymous:memory')).toBe(0);
  });

  it('refuse a flood of sealed sends per connection (anonymous_send_rate), RATE_LIMITED with retryAfterMs', async () => {
    const { anonymous, metrics, pass } = await withBob({ anonymousSendRate: 1, anonymousSendBurst: 5 });
    const { peer } = await anonymous('10.0.0.1');
    const answers: Frame[] = [];
    for (let i = 0; i < 8; i++) answers.push(await peer.request(sealedTo('bob')));
    expect(answers.map(outcome)).toEqual(['sent', 'sent', 'sent', 'sent', 'sent', ...Array(3).fill('RATE_LIMITED')]);
    expect(answers[5]).toMatchObject({ retryAfterMs: 1_000 });
    expect(metrics.count('limit:memory:anonymous_send_rate')).toBe(3);
    pass(1_000);
    expect(outcome(await peer.request(sealedTo('bob')))).toBe('sent');
  });

  it('refuse a flood of sealed sends per address over several connections (anonymous_send_rate_per_ip)', async () => {
    const { anonymous, metrics } = await withBob({
      anonymousSendBurst: 100,
      anonymousSendRatePerIp: 1,
      anonymousSendBurstPerIp: 6,
    });
    const peers = [(await anonymous('10.0.0.1')).peer, (await anonymous('10.0.0.1')).peer];
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++) outcomes.push(outcome(await peers[i % 2]!.request(sealedTo('bob'))));
    expect(outcomes).toEqual([...Array(6).fill('sent'), 'RATE_LIMITED', 'RATE_LIMITED']);
    expect(metrics.count('limit:memory:anonymous_send_rate_per_ip')).toBe(2);
    // Another address has its own budget.
    const other = (await anonymous('10.0.0.2')).peer;
    expect(outcome(await other.request(sealedTo('bob')))).toBe('sent');
  });
});
