/** What an application accepts of what the peer opens, and the decision for each new stream. */
import { describe, expect, it } from 'vitest';
import { webTransportCodeToHttp3 } from '../../src/webtransport/error-codes.ts';
import {
  ACCEPT_EVERYTHING,
  decideIncomingStream,
  type IncomingStreamContext,
  incomingPolicy,
  REFUSAL_CODE,
} from '../../src/webtransport/incoming-policy.ts';
import { queuedCost } from '../../src/webtransport/receive-budget.ts';

const PULSE = incomingPolicy({ bidirectionalStreams: 1, unidirectionalStreams: 0, datagrams: false });

const context = (overrides: Partial<IncomingStreamContext> = {}): IncomingStreamContext => ({
  policy: ACCEPT_EVERYTHING,
  bidirectional: false,
  accepted: 0,
  queued: 0,
  queueLength: 8,
  firstBytes: 0,
  room: 1 << 20,
  ...overrides,
});

describe('incomingPolicy', () => {
  it('accepts everything by default, as the W3C API', () => {
    expect(incomingPolicy()).toEqual(ACCEPT_EVERYTHING);
    expect(incomingPolicy({ datagrams: false })).toEqual({ ...ACCEPT_EVERYTHING, datagrams: false });
    expect(incomingPolicy({ unidirectionalStreams: 2 }, PULSE)).toEqual({ ...PULSE, unidirectionalStreams: 2 });
  });

  it('refuses counts that are not whole and non-negative', () => {
    for (const bad of [-1, 1.5, Number.NaN]) {
      expect(() => incomingPolicy({ unidirectionalStreams: bad })).toThrow(RangeError);
      expect(() => incomingPolicy({ bidirectionalStreams: bad })).toThrow(RangeError);
    }
    expect(() => incomingPolicy({ datagrams: 1 as unknown as boolean })).toThrow(RangeError);
  });
});

describe('decideIncomingStream', () => {
  it('takes streams up to what the application reads over the session, then refuses the rest', () => {
    expect(decideIncomingStream(context({ policy: PULSE, bidirectional: true }))).toEqual({ type: 'accept' });
    const refused = { type: 'refuse', reason: 'policy', code: REFUSAL_CODE.STREAM_REFUSED };
    expect(decideIncomingStream(context({ policy: PULSE, bidirectional: true, accepted: 1 }))).toEqual(refused);
    expect(decideIncomingStream(context({ policy: PULSE, bidirectional: false }))).toEqual(refused);
    expect(decideIncomingStream(context({ accepted: 1_000_000 }))).toEqual({ type: 'accept' });
  });

  it('refuses a stream while the application has not taken the ones already queued', () => {
    expect(decideIncomingStream(context({ queued: 7 }))).toEqual({ type: 'accept' });
    expect(decideIncomingStream(context({ queued: 8 }))).toEqual({
      type: 'refuse',
      reason: 'queue-full',
      code: REFUSAL_CODE.STREAM_REFUSED,
    });
  });

  it('stops a stream whose first bytes do not fit the budget; a stream without bytes needs no room', () => {
    const room = queuedCost(1000);
    expect(decideIncomingStream(context({ firstBytes: 1000, room }))).toEqual({ type: 'accept' });
    expect(decideIncomingStream(context({ firstBytes: 1001, room }))).toEqual({
      type: 'refuse',
      reason: 'over-budget',
      code: REFUSAL_CODE.RECEIVE_BUDGET_EXCEEDED,
    });
    expect(decideIncomingStream(context({ firstBytes: 0, room: 0 }))).toEqual({ type: 'accept' });
  });

  it('uses application codes that map into the HTTP/3 WebTransport range (draft-ietf-webtrans-http3 §4.4)', () => {
    for (const code of Object.values(REFUSAL_CODE)) {
      expect(code).toBeLessThanOrEqual(0xffffffff);
      expect(webTransportCodeToHttp3(code)).toBeGreaterThan(0x52e4a40fa8db);
    }
    expect(REFUSAL_CODE.STREAM_REFUSED).not.toBe(REFUSAL_CODE.RECEIVE_BUDGET_EXCEEDED);
  });
});
