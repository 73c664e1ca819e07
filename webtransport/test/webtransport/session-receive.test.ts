/**
 * What a session takes of what the peer sends, without a network: streams
 * beyond the application's policy or budget are refused, datagrams it does not
 * take are dropped, read-ahead stops at the budget, a reader that waits always
 * gets its bytes, and the counters say what happened.
 */
import { describe, expect, it } from 'vitest';
import { incomingPolicy, REFUSAL_CODE } from '../../src/webtransport/incoming-policy.ts';
import { webTransportLimits } from '../../src/webtransport/limits.ts';
import { queuedCost, ReceiveBudget } from '../../src/webtransport/receive-budget.ts';
import { type SessionPort, WebTransportSession } from '../../src/webtransport/session.ts';
import type { ReceiveSide } from '../../src/webtransport/stream-sides.ts';
import { WebTransportError } from '../../src/webtransport/types.ts';

const bytes = (length: number) => new Uint8Array(length).fill(7);
/** Lets the stream machinery run (start, pull): every pending microtask, no timer. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A port that records what the session asks of the edge; nothing is sent anywhere. */
function fakePort(connectionBudget = new ReceiveBudget(1 << 20)) {
  const stopped: [number, number][] = [];
  const port: SessionPort = {
    receiveBudget: connectionBudget,
    write: () => Promise.resolve(),
    reset: () => {},
    stopSending: (streamId, code) => stopped.push([streamId, code]),
    resume: () => {},
    openStream: () => Promise.resolve(0),
    sendDatagram: () => {},
    maxDatagramSize: () => 1200,
    closeSession: () => {},
  };
  return { port, stopped };
}

const limits = webTransportLimits({
  streamReadBufferBytes: 8 * 1024,
  sessionReceiveBudgetBytes: 16 * 1024,
  connectionReceiveBudgetBytes: 32 * 1024,
  incomingStreamQueueLength: 4,
  datagramQueueLength: 3,
});

function connected(policy = incomingPolicy(), port = fakePort().port): WebTransportSession {
  const session = new WebTransportSession(0, limits, policy);
  session.attach(port);
  session.handleReady('');
  return session;
}

function accepted(outcome: ReturnType<WebTransportSession['handleIncomingStream']>): ReceiveSide {
  if (outcome.type !== 'accept') throw new Error(`expected the stream to be taken, got ${JSON.stringify(outcome)}`);
  return outcome.receive;
}

describe('a session receiving', () => {
  it('refuses what the application does not read: extra bidi streams, any uni stream, and datagrams', () => {
    const session = connected(incomingPolicy({ bidirectionalStreams: 1, unidirectionalStreams: 0, datagrams: false }));
    expect(session.handleIncomingStream(4, true, bytes(10)).type).toBe('accept');
    expect(session.handleIncomingStream(8, true, bytes(100))).toEqual({
      type: 'refuse',
      reason: 'policy',
      code: REFUSAL_CODE.STREAM_REFUSED,
    });
    expect(session.handleIncomingStream(2, false, bytes(1000))).toMatchObject({ code: REFUSAL_CODE.STREAM_REFUSED });
    session.handleDatagram(bytes(500));
    expect(session.receiveStats).toEqual({
      streamsRefused: 2,
      streamsOverBudget: 0,
      datagramsDropped: 1,
      bytesDropped: 1600,
      bufferedBytes: queuedCost(10),
      peakBufferedBytes: queuedCost(10),
    });
  });

  it('refuses streams while the application has not taken the ones queued, and takes more once it has', async () => {
    const session = connected();
    for (let i = 0; i < 4; i++) expect(session.handleIncomingStream(2 + 4 * i, false, bytes(0)).type).toBe('accept');
    expect(session.handleIncomingStream(18, false, bytes(0))).toMatchObject({ reason: 'queue-full' });
    const incoming = session.incomingUnidirectionalStreams.getReader();
    await incoming.read();
    expect(session.handleIncomingStream(22, false, bytes(0)).type).toBe('accept');
  });

  it('stops a new stream whose first bytes do not fit, and reads ahead only as far as the budget allows', () => {
    const session = connected();
    const first = accepted(session.handleIncomingStream(2, false, bytes(6000)));
    // Read-ahead room: the stream's own (8 KiB) less what it holds, less one chunk's overhead.
    expect(first.wanted).toBe(8 * 1024 - queuedCost(6000) - queuedCost(0));
    first.push(bytes(first.wanted));
    expect(first.wanted).toBe(0);
    session.handleDatagram(bytes(2000)); // queued: nobody reads datagrams either
    const second = accepted(session.handleIncomingStream(6, false, bytes(1000)));
    // The session's 16 KiB now binds before the stream's own 8 KiB of read-ahead does.
    expect(second.wanted).toBe(16 * 1024 - 8 * 1024 - queuedCost(2000) - queuedCost(1000) - queuedCost(0));
    second.push(bytes(second.wanted));
    expect(session.receiveStats.bufferedBytes).toBe(16 * 1024);
    expect(session.handleIncomingStream(10, false, bytes(100))).toEqual({
      type: 'refuse',
      reason: 'over-budget',
      code: REFUSAL_CODE.RECEIVE_BUDGET_EXCEEDED,
    });
    expect(session.receiveStats.streamsOverBudget).toBe(1);
    expect(session.receiveStats.peakBufferedBytes).toBeLessThanOrEqual(16 * 1024);
  });

  it('lets a reader that waits take any amount, however full the budget', async () => {
    const session = connected();
    const hoard = accepted(session.handleIncomingStream(2, false, bytes(0)));
    hoard.push(bytes(hoard.wanted)); // 8 KiB nobody reads
    const other = accepted(session.handleIncomingStream(6, false, bytes(0)));
    other.push(bytes(other.wanted)); // the session's budget is full now
    const streams = session.incomingUnidirectionalStreams.getReader();
    await streams.read();
    const reader = ((await streams.read()).value as ReadableStream<Uint8Array>).getReader();
    await reader.read(); // takes the queued bytes: the queue is empty, the next read waits
    const waiting = reader.read();
    await settle();
    expect(other.wanted).toBe(Number.POSITIVE_INFINITY);
    other.push(bytes(64 * 1024));
    expect(((await waiting).value as Uint8Array).length).toBe(64 * 1024);
    expect(session.receiveStats.peakBufferedBytes).toBeLessThanOrEqual(16 * 1024);
  });

  it('stays inside the connection budget, which its sessions share', () => {
    const { port } = fakePort(new ReceiveBudget(20 * 1024));
    const first = connected(incomingPolicy(), port);
    const second = connected(incomingPolicy(), port);
    const a = accepted(first.handleIncomingStream(2, false, bytes(0)));
    a.push(bytes(a.wanted));
    const b = accepted(first.handleIncomingStream(6, false, bytes(0)));
    b.push(bytes(b.wanted));
    // The first session holds ~16 KiB of the connection's 20: the second has ~4 KiB of room, not its own 16.
    const c = accepted(second.handleIncomingStream(2, false, bytes(0)));
    expect(c.wanted).toBe(20 * 1024 - first.receiveStats.bufferedBytes - queuedCost(0));
    expect(second.handleIncomingStream(6, false, bytes(8 * 1024)).type).toBe('refuse');
  });

  it('queues datagrams up to the queue length and the budget, drops the rest, and hands one to a waiting read', async () => {
    const session = connected();
    for (let i = 0; i < 5; i++) session.handleDatagram(bytes(1000));
    expect(session.receiveStats).toMatchObject({ datagramsDropped: 2, bufferedBytes: 3 * queuedCost(1000) });
    const reader = session.datagrams.readable.getReader();
    for (let i = 0; i < 3; i++) await reader.read();
    const waiting = reader.read();
    await settle();
    expect(session.receiveStats.bufferedBytes).toBe(0);
    session.handleDatagram(bytes(20 * 1024)); // larger than the budget, but a read waits for it
    expect(((await waiting).value as Uint8Array).length).toBe(20 * 1024);
    session.handleDatagram(bytes(20 * 1024)); // no read waits: it does not fit
    expect(session.receiveStats.datagramsDropped).toBe(3);
  });

  it('gives back to the connection what it held when it closes; a reset stream gives back its bytes at once', () => {
    const connectionBudget = new ReceiveBudget(1 << 20);
    const session = connected(incomingPolicy(), fakePort(connectionBudget).port);
    const reset = accepted(session.handleIncomingStream(2, false, bytes(3000)));
    reset.abort(new WebTransportError('reset by peer', { streamErrorCode: 3 }));
    expect(connectionBudget.used).toBe(0);
    expect(session.receiveStats.bytesDropped).toBe(3000);
    const held = accepted(session.handleIncomingStream(6, false, bytes(3000)));
    held.finish(); // finished: its bytes stay readable after the close
    session.handleDatagram(bytes(100));
    expect(connectionBudget.used).toBe(queuedCost(3000) + queuedCost(100));
    session.close();
    expect(connectionBudget.used).toBe(0);
  });

  it('stops reading from a stream the reader cancelled, with the reader code', async () => {
    const { port, stopped } = fakePort();
    const session = connected(incomingPolicy(), port);
    const receive = accepted(session.handleIncomingStream(2, false, bytes(10)));
    const readable = (await session.incomingUnidirectionalStreams.getReader().read()).value as ReadableStream;
    await readable.cancel({ streamErrorCode: 9 });
    expect(stopped).toEqual([[2, 9]]);
    expect(receive.wanted).toBe(0);
    expect(session.receiveStats.bufferedBytes).toBe(0);
  });

  it('drops what arrives for a session that is not established', () => {
    const session = new WebTransportSession(0, limits);
    expect(session.handleIncomingStream(2, false, bytes(10))).toEqual({ type: 'gone' });
    session.handleDatagram(bytes(10));
    expect(session.receiveStats.datagramsDropped).toBe(0); // HTTP/3 delivers none before; nothing counted
  });
});
