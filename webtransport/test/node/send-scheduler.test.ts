/**
 * The send phase of each turn: a budget of packets per turn for all connections,
 * a share per connection per visit, round-robin, the rest in later turns.
 */
import { describe, expect, it } from 'vitest';
import { type PacketSource, SendScheduler } from '../../src/node/send-scheduler.ts';

/** A connection with `backlog` packets; records how many it sent in each visit. */
class Backlog implements PacketSource {
  readonly visits: number[] = [];
  readonly name: string;
  readonly log: string[];
  backlog: number;

  constructor(name: string, backlog: number, log: string[]) {
    this.name = name;
    this.backlog = backlog;
    this.log = log;
  }

  sendPackets(limit: number): { sent: number; more: boolean } {
    const sent = Math.min(limit, this.backlog);
    this.backlog -= sent;
    this.visits.push(sent);
    this.log.push(`${this.name}:${sent}`);
    return { sent, more: sent >= limit };
  }
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('SendScheduler', () => {
  it('sends once per turn, not at once, and visits a connection queued twice once', async () => {
    const log: string[] = [];
    const scheduler = new SendScheduler(100, 10);
    const a = new Backlog('a', 3, log);
    scheduler.queue(a);
    scheduler.queue(a);
    expect(log).toEqual([]);
    await nextTurn();
    expect(log).toEqual(['a:3']);
    await nextTurn();
    expect(log).toEqual(['a:3']);
  });

  it('gives each connection at most its share per visit and sends the rest in later turns, round-robin', async () => {
    const log: string[] = [];
    const scheduler = new SendScheduler(100, 10);
    const bulk = new Backlog('bulk', 25, log);
    const small = new Backlog('small', 2, log);
    scheduler.queue(bulk);
    scheduler.queue(small);
    await nextTurn();
    // The bulk sender used its share and went to the back of the line: the small one is not held up.
    expect(log).toEqual(['bulk:10', 'small:2']);
    await nextTurn();
    await nextTurn();
    expect(bulk.visits).toEqual([10, 10, 5]);
    expect(bulk.backlog).toBe(0);
  });

  it('stops a turn at the budget and lets the connections that waited go first next turn', async () => {
    const log: string[] = [];
    const scheduler = new SendScheduler(20, 10);
    const sources = ['a', 'b', 'c', 'd'].map((name) => new Backlog(name, 10, log));
    for (const source of sources) scheduler.queue(source);
    await nextTurn();
    expect(log).toEqual(['a:10', 'b:10']);
    // Queued since the last turn: behind c and d, which waited, and behind a and b, which went
    // to the back of the line at their share (more: true) before it came.
    const late = new Backlog('late', 1, log);
    scheduler.queue(late);
    await nextTurn();
    expect(log.slice(2)).toEqual(['c:10', 'd:10']);
    await nextTurn();
    expect(log.slice(4)).toEqual(['a:0', 'b:0', 'late:1', 'c:0', 'd:0']);
  });

  it('keeps serving the others when one connection throws', async () => {
    const log: string[] = [];
    const scheduler = new SendScheduler(100, 10);
    scheduler.queue({
      sendPackets() {
        throw new Error('closed meanwhile');
      },
    });
    const b = new Backlog('b', 1, log);
    scheduler.queue(b);
    await nextTurn();
    expect(log).toEqual(['b:1']);
  });
});
