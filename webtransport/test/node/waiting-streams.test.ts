/** Streams that arrive before their session (draft-ietf-webtrans-http3 §4.6): held up to a limit per connection. */
import { describe, expect, it } from 'vitest';
import { WaitingStreams } from '../../src/node/waiting-streams.ts';

describe('WaitingStreams', () => {
  const stream = (streamId: number) => ({ streamId, bidirectional: true, data: new Uint8Array(0), fin: false });

  it('holds streams per session up to the limit, and frees room when taken', () => {
    const waiting = new WaitingStreams(2);
    expect(waiting.hold(0, stream(4))).toBe(true);
    expect(waiting.hold(8, stream(12))).toBe(true);
    expect(waiting.hold(0, stream(16))).toBe(false);
    expect(waiting.take(0).map((s) => s.streamId)).toEqual([4]);
    expect(waiting.take(0)).toEqual([]);
    expect(waiting.hold(0, stream(16))).toBe(true);
    expect(waiting.take(8).map((s) => s.streamId)).toEqual([12]);
  });
});
