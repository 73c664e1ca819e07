import { FRAME_TYPES } from '@pulse/proto';
import { describe, expect, it } from 'vitest';
import { REQUESTS } from '../../src/core/requests/table.ts';
import { outcome, startCore } from '../helpers/core-harness.ts';

describe('the request table', () => {
  it('has one entry per client frame, each accepted from its phase', async () => {
    const types = Object.keys(REQUESTS);
    expect(types.every((type) => (FRAME_TYPES as readonly string[]).includes(type))).toBe(true);
    const byPhase = (phase: string) =>
      Object.entries(REQUESTS)
        .filter(([, entry]) => entry.phase === phase)
        .map(([type]) => type)
        .sort();
    expect(byPhase('always')).toEqual(['close', 'hello', 'ping']);
    expect(byPhase('greeted')).toEqual(['auth', 'auth_token', 'link_request', 'pong', 'register']);
    expect(byPhase('authenticated')).toHaveLength(types.length - 8);
  });

  it('answers a frame that is no request: AUTH_REQUIRED before auth_ok, PROTO_UNKNOWN_TYPE after', async () => {
    const { connect, register } = startCore();
    const stranger = await connect();
    expect(outcome(await stranger.request({ type: 'ok', id: 0 }))).toBe('AUTH_REQUIRED');
    const alice = await register('alice');
    expect(outcome(await alice.request({ type: 'ok', id: 0 }))).toBe('PROTO_UNKNOWN_TYPE');
    expect(outcome(await alice.request({ type: 'sync', id: 0 }))).toBe('sync_done');
  });
});
