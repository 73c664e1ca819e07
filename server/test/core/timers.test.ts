import { describe, expect, it } from 'vitest';
import { outcome, startCore } from '../helpers/core-harness.ts';

/** What the core does on its timers, driven by the fake scheduler: no waiting, no real time. */
describe('timers (fake scheduler)', () => {
  it('pings an idle connection after heartbeat.interval and closes a silent one after heartbeat.timeout', () => {
    const { core, scheduler, register, metrics } = startCore();
    core.start();
    const quiet = register('quiet');
    const chatty = register('chatty');
    scheduler.advance(15_000);
    expect(quiet.take('ping')).toHaveLength(1);
    expect(chatty.take('ping')).toHaveLength(1);
    chatty.send({ type: 'pong', nonce: 0 });
    // The ticker runs every second: the first tick past the timeout closes.
    scheduler.advance(31_000);
    expect(quiet.take('close')).toMatchObject([{ code: 'HEARTBEAT_TIMEOUT' }]);
    expect(quiet.closedWith).toBe('HEARTBEAT_TIMEOUT');
    expect(chatty.closedWith).toBeUndefined();
    expect(metrics.count('limit:memory:heartbeat')).toBe(1);
    expect(core.sessionCount).toBe(1);
  });

  it('closes a connection that does not authenticate within heartbeat.timeout (AUTH_REQUIRED)', () => {
    const { core, scheduler, connect } = startCore();
    core.start();
    const peer = connect();
    scheduler.advance(45_000);
    expect(peer.closedWith).toBeUndefined();
    scheduler.advance(1_000);
    expect(peer.closedWith).toBe('AUTH_REQUIRED');
  });

  it('purges expired envelopes every purge interval and tells the online sender (ENVELOPE_EXPIRED)', () => {
    const { core, scheduler, register, store, metrics } = startCore({
      limits: { envelopeTtl: 1_500 },
      purgeIntervalMs: 1_000,
    });
    core.start();
    const alice = register('alice');
    register('bob').send({ type: 'close', code: 'NORMAL', reason: 'bye' });
    const sent = alice.request({
      type: 'send',
      id: 0,
      to: 'bob',
      envelopes: [{ deviceId: 1, payload: new Uint8Array(1) }],
    });
    expect(outcome(sent)).toBe('sent');
    scheduler.advance(1_000);
    expect(store.queueLength('bob', 1)).toBe(1);
    scheduler.advance(1_000);
    expect(store.queueLength('bob', 1)).toBe(0);
    expect(alice.take('error')).toMatchObject([{ code: 'ENVELOPE_EXPIRED' }]);
    expect(metrics.count('envelopes:expired')).toBe(1);
  });

  it('pauses delivery while the connection buffer is above half the send queue, and resumes on the retry timer', () => {
    const { scheduler, register, metrics } = startCore({ limits: { sendQueueBytes: 1_000 } });
    const alice = register('alice');
    const bob = register('bob');
    bob.buffered = 600;
    for (let i = 0; i < 3; i++) {
      alice.request({ type: 'send', id: 0, to: 'bob', envelopes: [{ deviceId: 1, payload: new Uint8Array([i]) }] });
    }
    expect(bob.take('deliver')).toEqual([]);
    bob.buffered = 0;
    scheduler.advance(10);
    expect(bob.take('deliver').map((d) => d.payload[0])).toEqual([0, 1, 2]);
    expect(metrics.count('envelopes:delivered')).toBe(3);
  });

  it('stops its timers on shutdown and tells sessions SERVER_SHUTDOWN', () => {
    const { core, scheduler, register } = startCore();
    core.start();
    expect(scheduler.pendingTimers).toBe(2);
    const alice = register('alice');
    core.shutdown();
    expect(scheduler.pendingTimers).toBe(0);
    expect(alice.closedWith).toBe('SERVER_SHUTDOWN');
    expect(alice.take('close')).toMatchObject([{ code: 'SERVER_SHUTDOWN' }]);
  });
});
