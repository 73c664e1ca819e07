/**
 * IncomingPolicy.maxDatagramBytes: an application that reads datagrams takes
 * them up to a size; a larger one is dropped on arrival, before it is queued,
 * and counted like any datagram nobody reads.
 */
import { describe, expect, it } from 'vitest';
import { ACCEPT_EVERYTHING, acceptsDatagram, incomingPolicy } from '../../src/webtransport/incoming-policy.ts';
import { webTransportLimits } from '../../src/webtransport/limits.ts';
import { ReceiveBudget } from '../../src/webtransport/receive-budget.ts';
import { type SessionPort, WebTransportSession } from '../../src/webtransport/session.ts';

const port: SessionPort = {
  receiveBudget: new ReceiveBudget(1 << 20),
  write: () => Promise.resolve(),
  reset: () => {},
  stopSending: () => {},
  resume: () => {},
  openStream: () => Promise.resolve(0),
  sendDatagram: () => {},
  maxDatagramSize: () => 1200,
  closeSession: () => {},
};

describe('incoming datagrams by size', () => {
  it('accepts any size by default, and refuses a bound that is not a whole number above 0', () => {
    expect(ACCEPT_EVERYTHING.maxDatagramBytes).toBe(Number.POSITIVE_INFINITY);
    expect(acceptsDatagram(ACCEPT_EVERYTHING, 65_000)).toBe(true);
    expect(acceptsDatagram(incomingPolicy({ datagrams: false }), 1)).toBe(false);
    for (const bad of [0, -1, 1.5, Number.NaN])
      expect(() => incomingPolicy({ maxDatagramBytes: bad })).toThrow(RangeError);
  });

  it('drops a datagram above maxDatagramBytes on arrival and queues one at the bound', async () => {
    const session = new WebTransportSession(0, webTransportLimits(), incomingPolicy({ maxDatagramBytes: 100 }));
    session.attach(port);
    session.handleReady('');
    session.handleDatagram(new Uint8Array(101));
    session.handleDatagram(new Uint8Array(100).fill(1));
    expect(session.receiveStats).toMatchObject({ datagramsDropped: 1, bytesDropped: 101 });
    const { value } = await session.datagrams.readable.getReader().read();
    expect(value).toEqual(new Uint8Array(100).fill(1));
  });
});
