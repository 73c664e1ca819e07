/** Receive budgets: nested limits, what they hold, and counters that add up the chain. */
import { describe, expect, it } from 'vitest';
import { QUEUED_CHUNK_OVERHEAD_BYTES, queuedCost, ReceiveBudget } from '../../src/webtransport/receive-budget.ts';

describe('ReceiveBudget', () => {
  it('has room for what fits every budget above it, and counts charges up the chain', () => {
    const server = new ReceiveBudget(Number.POSITIVE_INFINITY);
    const connection = new ReceiveBudget(1000, server);
    const first = new ReceiveBudget(600, connection);
    const second = new ReceiveBudget(600, connection);
    expect(first.room).toBe(600);
    first.charge(500);
    expect([first.used, connection.used, server.used]).toEqual([500, 500, 500]);
    // The connection binds before the session's own limit does.
    expect(second.room).toBe(500);
    expect(second.fits(500)).toBe(true);
    expect(second.fits(501)).toBe(false);
    second.charge(500);
    expect(first.room).toBe(0);
    first.release(200);
    expect([first.used, connection.used, server.used]).toEqual([300, 800, 800]);
    expect(second.room).toBe(100);
    expect(server.stats()).toMatchObject({ bufferedBytes: 800, peakBufferedBytes: 1000 });
  });

  it('lets go of what an ended budget held, from every budget above, and keeps later releases local', () => {
    const connection = new ReceiveBudget(1000);
    const session = new ReceiveBudget(600, connection);
    session.charge(400);
    session.detach();
    expect(connection.used).toBe(0);
    expect(connection.room).toBe(1000);
    session.release(400);
    expect(session.used).toBe(0);
    expect(connection.used).toBe(0);
  });

  it('joins a parent only while it holds nothing', () => {
    const connection = new ReceiveBudget(1000);
    const session = new ReceiveBudget(600);
    session.join(connection);
    session.charge(10);
    expect(connection.used).toBe(10);
    expect(() => session.join(new ReceiveBudget(5))).toThrow(/before it holds anything/);
  });

  it('adds refusals and drops to every counter up the chain', () => {
    const server = new ReceiveBudget(Number.POSITIVE_INFINITY);
    const connection = new ReceiveBudget(1000, server);
    const session = new ReceiveBudget(600, connection);
    session.streamRefused(100, false);
    session.streamRefused(40, true);
    session.datagramDropped(1200);
    session.discarded(7);
    session.discarded(0);
    connection.streamRefused(3, false); // a stream that waited for a session that never came
    const expected = { streamsRefused: 1, streamsOverBudget: 1, datagramsDropped: 1, bytesDropped: 1347 };
    expect(session.stats()).toEqual({ ...expected, bufferedBytes: 0, peakBufferedBytes: 0 });
    expect(server.stats()).toMatchObject({ ...expected, streamsRefused: 2, bytesDropped: 1350 });
  });

  it('costs a queued chunk its bytes plus a fixed overhead', () => {
    expect(queuedCost(0)).toBe(QUEUED_CHUNK_OVERHEAD_BYTES);
    expect(queuedCost(1000)).toBe(1000 + QUEUED_CHUNK_OVERHEAD_BYTES);
  });
});
