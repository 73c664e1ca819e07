import { describe, expect, it } from 'vitest';
import { DEFAULT_CLIENT_LIMITS } from '../src/limits.ts';
import type { ServerInfo } from '../src/server-info.ts';
import { transportOrder } from '../src/transport/negotiate.ts';

const limits = DEFAULT_CLIENT_LIMITS;

describe('transportOrder', () => {
  const both: ServerInfo = {
    versions: [1],
    webTransport: { url: 'https://h/pulse/wt', certificateHashes: [] },
    webSocket: { url: 'ws://h/pulse/ws' },
  };
  const factories = { webSocket: () => ({}) as never, webTransport: () => ({}) as never };

  it('tries WebTransport first, then WebSocket', () => {
    expect(transportOrder('auto', both, factories, undefined, 0, limits)).toEqual(['webtransport', 'websocket']);
  });
  it('goes straight to WebSocket after a recent fallback, and tries WebTransport again later', () => {
    const remembered = { kind: 'websocket' as const, at: 1_000 };
    expect(transportOrder('auto', both, factories, remembered, 2_000, limits)).toEqual(['websocket']);
    const later = 1_000 + limits.transportMemoryMs + 1;
    expect(transportOrder('auto', both, factories, remembered, later, limits)).toEqual(['webtransport', 'websocket']);
  });
  it('honours an explicit choice and what the runtime lacks', () => {
    expect(transportOrder('websocket', both, factories, undefined, 0, limits)).toEqual(['websocket']);
    expect(transportOrder('auto', both, { webSocket: factories.webSocket }, undefined, 0, limits)).toEqual([
      'websocket',
    ]);
    expect(
      transportOrder('webtransport', { ...both, webTransport: undefined }, factories, undefined, 0, limits),
    ).toEqual([]);
  });
});
