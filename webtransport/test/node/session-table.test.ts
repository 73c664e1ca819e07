/** The session table: sessions, their streams, announced closes, and streams waiting for their session (§4.6). */
import { describe, expect, it } from 'vitest';
import { SessionTable } from '../../src/node/session-table.ts';
import { webTransportLimits } from '../../src/webtransport/limits.ts';
import { WebTransportSession } from '../../src/webtransport/session.ts';

const limits = webTransportLimits();
const waiting = (streamId: number) => ({ streamId, bidirectional: false, data: new Uint8Array(0), fin: false });

describe('SessionTable', () => {
  it('keeps sessions by id and streams by session, and removes a session with its streams only', () => {
    const table = new SessionTable(4);
    const first = new WebTransportSession(0, limits);
    const second = new WebTransportSession(4, limits);
    table.add(first);
    table.add(second);
    table.bindStream(2, first);
    table.bindStream(6, first);
    table.bindStream(10, second);
    expect(table.size).toBe(2);
    expect(table.get(4)).toBe(second);
    expect(table.sessionOf(6)).toBe(first);
    expect(table.sessions()).toEqual([first, second]);

    expect(table.remove(0)).toEqual({ session: first, streams: [2, 6] });
    expect(table.has(0)).toBe(false);
    expect(table.sessionOf(2)).toBeUndefined();
    expect(table.sessionOf(10)).toBe(second);
    expect(table.remove(0)).toBeUndefined();
    table.unbindStream(10);
    expect(table.sessionOf(10)).toBeUndefined();
  });

  it('remembers the close a capsule announced until the session goes, else a clean close', () => {
    const table = new SessionTable(4);
    table.add(new WebTransportSession(0, limits));
    expect(table.closeInfoOf(0)).toEqual({ closeCode: 0, reason: '' });
    expect(table.closeInfoOf(0)).not.toBe(table.closeInfoOf(0)); // a fresh object for each session's `closed`
    table.recordClose(0, { closeCode: 7, reason: 'bye' });
    expect(table.closeInfoOf(0)).toEqual({ closeCode: 7, reason: 'bye' });
    table.remove(0);
    expect(table.closeInfoOf(0)).toEqual({ closeCode: 0, reason: '' });
  });

  it('holds streams for sessions not established yet, up to its limit', () => {
    const table = new SessionTable(2);
    expect(table.hold(8, waiting(2))).toBe(true);
    expect(table.hold(8, waiting(6))).toBe(true);
    expect(table.hold(12, waiting(10))).toBe(false);
    expect(table.takeWaiting(8).map((stream) => stream.streamId)).toEqual([2, 6]);
    expect(table.takeWaiting(8)).toEqual([]);
  });
});
