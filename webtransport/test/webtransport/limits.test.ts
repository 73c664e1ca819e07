/** Limits: defaults, overrides, and the bounds that must nest (issue 11's receive budgets). */
import { describe, expect, it } from 'vitest';
import { DEFAULT_WEBTRANSPORT_LIMITS, webTransportLimits } from '../../src/webtransport/limits.ts';

describe('webTransportLimits', () => {
  it('has defaults whose receive bounds nest: stream read-ahead ≤ session budget ≤ connection budget', () => {
    const limits = webTransportLimits();
    expect(limits).toEqual(DEFAULT_WEBTRANSPORT_LIMITS);
    expect(limits.streamReadBufferBytes).toBeLessThanOrEqual(limits.sessionReceiveBudgetBytes);
    expect(limits.sessionReceiveBudgetBytes).toBeLessThanOrEqual(limits.connectionReceiveBudgetBytes);
    expect(limits.streamWindowBytes).toBeLessThanOrEqual(limits.connectionWindowBytes);
    // What one connection can be made to hold: unread in quiche plus queued here.
    expect(limits.connectionWindowBytes + limits.connectionReceiveBudgetBytes).toBeLessThanOrEqual(8 * 1024 * 1024);
  });

  it('refuses bounds that do not nest, and values that are not positive integers', () => {
    expect(() => webTransportLimits({ streamReadBufferBytes: 2 * 1024 * 1024 })).toThrow(/sessionReceiveBudgetBytes/);
    expect(() => webTransportLimits({ sessionReceiveBudgetBytes: 8 * 1024 * 1024 })).toThrow(
      /connectionReceiveBudgetBytes/,
    );
    expect(() => webTransportLimits({ streamWindowBytes: 8 * 1024 * 1024 })).toThrow(/connectionWindowBytes/);
    expect(() => webTransportLimits({ incomingStreamQueueLength: 0 })).toThrow(RangeError);
    expect(() => webTransportLimits({ connectionReceiveBudgetBytes: 1.5 })).toThrow(RangeError);
    expect(webTransportLimits({ sessionReceiveBudgetBytes: 512 * 1024 }).sessionReceiveBudgetBytes).toBe(512 * 1024);
  });
});
