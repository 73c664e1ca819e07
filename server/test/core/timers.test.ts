import { describe, expect, it } from 'vitest';
import type { Connection } from '../../src/core/connection.ts';
import { outcome, startCore } from '../helpers/core-harness.ts';
import { MemoryStore } from '../helpers/memory-store.ts';

/** What the core does on its timers, driven by the fake scheduler: no waiting, no real time. */
describe('timers (fake scheduler)', () => {
  it('pings an idle connection after heartbeat.interval and closes a silent one after heartbeat.timeout', async () => {
    const { core, scheduler, register, metrics } = startCore();
    core.start();
    const quiet = await register('quiet');
    const chatty = await register('chatty');
    await scheduler.advance(15_000);
    expect(quiet.take('ping')).toHaveLength(1);
    expect(chatty.take('ping')).toHaveLength(1);
    await chatty.send({ type: 'pong', nonce: 0 });
    // The ticker runs every second: the first tick past the timeout closes.
    await scheduler.advance(31_000);
    expect(quiet.take('close')).toMatchObject([{ code: 'HEARTBEAT_TIMEOUT' }]);
    expect(quiet.closedWith).toBe('HEARTBEAT_TIMEOUT');
    expect(chatty.closedWith).toBeUndefined();
    expect(metrics.count('limit:memory:heartbeat')).toBe(1);
    expect(core.sessionCount).toBe(1);
  });

  it('closes a connection that does not authenticate within heartbeat.timeout (AUTH_REQUIRED)', async () => {
    const { core, scheduler, connect } = startCore();
    core.start();
    const peer = await connect();
    await scheduler.advance(45_000);
    expect(peer.closedWith).toBeUndefined();
    await scheduler.advance(1_000);
    expect(peer.closedWith).toBe('AUTH_REQUIRED');
  });

  it('purges expired envelopes every purge interval and tells the online sender (ENVELOPE_EXPIRED)', async () => {
    const { core, scheduler, register, store, metrics } = startCore({
      limits: { envelopeTtl: 1_500 },
      purgeIntervalMs: 1_000,
    });
    core.start();
    const alice = await register('alice');
    await (await register('bob')).send({ type: 'close', code: 'NORMAL', reason: 'bye' });
    const sent = await alice.request({
      type: 'send',
      id: 0,
      to: 'bob',
      envelopes: [{ deviceId: 1, payload: new Uint8Array(1) }],
    });
    expect(outcome(sent)).toBe('sent');
    await scheduler.advance(1_000);
    expect(await store.queueLength('bob', 1)).toBe(1);
    await scheduler.advance(1_000);
    expect(await store.queueLength('bob', 1)).toBe(0);
    expect(alice.take('error')).toMatchObject([{ code: 'ENVELOPE_EXPIRED' }]);
    expect(metrics.count('envelopes:expired')).toBe(1);
  });

  it('pauses delivery while the connection buffer is above half the send queue, and resumes on the retry timer', async () => {
    const { scheduler, register, metrics } = startCore({ limits: { sendQueueBytes: 1_000 } });
    const alice = await register('alice');
    const bob = await register('bob');
    bob.buffered = 600;
    for (let i = 0; i < 3; i++) {
      await alice.request({
        type: 'send',
        id: 0,
        to: 'bob',
        envelopes: [{ deviceId: 1, payload: new Uint8Array([i]) }],
      });
    }
    expect(bob.take('deliver')).toEqual([]);
    bob.buffered = 0;
    await scheduler.advance(10);
    expect(bob.take('deliver').map((d) => d.payload[0])).toEqual([0, 1, 2]);
    expect(metrics.count('envelopes:delivered')).toBe(3);
  });

  it('stops its timers on shutdown and tells sessions SERVER_SHUTDOWN', async () => {
    const { core, scheduler, register } = startCore();
    core.start();
    expect(scheduler.pendingTimers).toBe(2);
    const alice = await register('alice');
    await core.shutdown();
    expect(scheduler.pendingTimers).toBe(0);
    expect(alice.closedWith).toBe('SERVER_SHUTDOWN');
    expect(alice.take('close')).toMatchObject([{ code: 'SERVER_SHUTDOWN' }]);
  });

  it('a timer task that fails never escapes: a transport that throws on close, a store that fails the purge', async () => {
    const store = new MemoryStore();
    const { core, scheduler, metrics } = startCore({ store, purgeIntervalMs: 1_000 });
    core.start();
    const broken: Connection = {
      transport: 'memory',
      remoteAddress: '127.0.0.9',
      bufferedAmount: 0,
      send() {},
      close() {
        throw new Error('the socket is gone');
      },
    };
    core.accept(broken);
    let purges = 0;
    store.purgeExpired = async () => {
      purges++;
      throw new Error('SQLITE_IOERR');
    };
    // The heartbeat closes the silent connection (its close throws) and the purge fails, each more than once.
    await expect(scheduler.advance(50_000)).resolves.toBeUndefined();
    expect(purges).toBeGreaterThan(10);
    expect(core.sessionCount).toBe(0);
    expect(metrics.count('connections:memory')).toBe(0);
  });
});
