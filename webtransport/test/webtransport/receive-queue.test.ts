/**
 * The receive queue: bytes wait here, charged to the budget, until the reader
 * takes them; a reader that waits gets them directly; a stop or reset throws
 * them away at once.
 */
import { describe, expect, it } from 'vitest';
import { queuedCost, ReceiveBudget } from '../../src/webtransport/receive-budget.ts';
import { ReceiveQueue } from '../../src/webtransport/receive-queue.ts';

const bytes = (length: number, fill = 1) => new Uint8Array(length).fill(fill);
/** Lets the stream machinery run (start, pull): every pending microtask, no timer. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function queue(budget = new ReceiveBudget(1 << 20)) {
  const calls = { pulled: 0, cancelled: [] as unknown[] };
  const receive = new ReceiveQueue(budget, {
    pulled: () => calls.pulled++,
    cancelled: (reason) => calls.cancelled.push(reason),
  });
  return { receive, budget, calls, reader: receive.readable.getReader() };
}

describe('ReceiveQueue', () => {
  it('charges what waits for the reader and releases it once the reader has taken it', async () => {
    const { receive, budget, calls, reader } = queue();
    receive.push(bytes(100));
    receive.push(bytes(50, 2));
    receive.push(bytes(25, 3));
    expect(budget.used).toBe(queuedCost(100) + queuedCost(50) + queuedCost(25));
    expect(receive.queuedCount).toBe(3);
    // The first read pulls: it gets the first chunk, the others move to the WHATWG queue, still charged.
    expect((await reader.read()).value).toEqual(bytes(100));
    expect(budget.used).toBe(queuedCost(50) + queuedCost(25));
    expect(receive.queuedCount).toBe(2);
    expect((await reader.read()).value).toEqual(bytes(50, 2));
    expect((await reader.read()).value).toEqual(bytes(25, 3));
    expect(calls.pulled).toBe(1); // taken from the WHATWG queue without a pull each
    // The next read finds the WHATWG queue empty and pulls: what was handed over has been read.
    const next = reader.read();
    await settle();
    expect(budget.used).toBe(0);
    expect(receive.queuedCost).toBe(0);
    expect(receive.waiting).toBe(true);
    receive.push(bytes(1));
    expect((await next).value).toEqual(bytes(1));
  });

  it('throws away what was handed to the WHATWG queue too when the reader cancels', async () => {
    const { receive, budget, reader } = queue();
    receive.push(bytes(10));
    receive.push(bytes(20));
    await reader.read(); // 20 bytes now wait in the WHATWG queue
    await reader.cancel();
    expect(budget.used).toBe(0);
    expect(budget.stats().bytesDropped).toBe(20);
  });

  it('hands a chunk to a read that waits without queueing or charging it', async () => {
    const { receive, budget, calls, reader } = queue();
    await settle();
    const read = reader.read();
    await settle();
    // The read asked: the edge is told, and the queue knows a reader waits.
    expect(calls.pulled).toBe(1);
    expect(receive.waiting).toBe(true);
    receive.push(bytes(1000));
    expect(receive.waiting).toBe(false);
    expect(budget.used).toBe(0);
    expect(budget.stats().peakBufferedBytes).toBe(0);
    expect((await read).value).toEqual(bytes(1000));
  });

  it('closes after the reader took what was queued when the end came', async () => {
    const { receive, reader } = queue();
    receive.push(bytes(10));
    receive.close();
    expect(receive.ended).toBe(true);
    receive.push(bytes(10)); // nothing after the end
    expect((await reader.read()).value).toEqual(bytes(10));
    expect((await reader.read()).done).toBe(true);
  });

  it('throws away what is queued when the reader cancels, and tells the edge once', async () => {
    const { receive, budget, calls, reader } = queue();
    receive.push(bytes(300));
    await reader.cancel('not wanted');
    expect(calls.cancelled).toEqual(['not wanted']);
    expect(budget.used).toBe(0);
    expect(budget.stats().bytesDropped).toBe(300);
    expect(receive.ended).toBe(true);
  });

  it('throws away what is queued when the input fails, and the reader sees the error', async () => {
    const { receive, budget, calls, reader } = queue();
    receive.push(bytes(300));
    receive.fail(new Error('reset'));
    expect(budget.used).toBe(0);
    expect(budget.stats().bytesDropped).toBe(300);
    await expect(reader.read()).rejects.toThrow('reset');
    expect(calls.cancelled).toEqual([]);
  });

  it('does not tell the edge of a cancel after the end (nothing left to stop)', async () => {
    const { receive, calls, reader } = queue();
    receive.push(bytes(5));
    receive.close();
    await reader.cancel();
    expect(calls.cancelled).toEqual([]);
  });

  it('counts a chunk whose read was withdrawn until the next read takes it', async () => {
    const { receive, budget, reader: first } = queue();
    const pending = first.read();
    await settle();
    expect(receive.waiting).toBe(true);
    first.releaseLock(); // the waiting read is withdrawn
    await expect(pending).rejects.toThrow();
    receive.push(bytes(64));
    expect(budget.used).toBe(queuedCost(64));
    const second = receive.readable.getReader();
    expect((await second.read()).value).toEqual(bytes(64));
    const next = second.read(); // the WHATWG queue is empty again: this read pulls
    await settle();
    expect(budget.used).toBe(0);
    receive.push(bytes(1));
    expect((await next).value).toEqual(bytes(1));
  });
});
