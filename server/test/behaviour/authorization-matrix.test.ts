import { REQUEST_ANSWERS } from '@pulse/proto';
import { InProcessServer } from '@pulse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUTHORIZATION_MATRIX,
  type CellResult,
  requestTypesWithoutRow,
  runAuthorizationMatrix,
} from '../../../reliability/authorization/matrix.ts';

/**
 * The authorization matrix (reliability/authorization/matrix.ts; issue 11):
 * every request type of proto's request table, tried by an unauthenticated
 * connection, by another account and by a removed device, each refused with its
 * code. In process here; `npm run test:reliability` runs the same matrix
 * against the server process over WebSocket and WebTransport.
 */
describe('authorization matrix', () => {
  let server: InProcessServer;
  let results: CellResult[];
  let removedClosedWith: string;
  beforeAll(async () => {
    server = InProcessServer.start();
    const run = await runAuthorizationMatrix(server.dial());
    results = run.results;
    removedClosedWith = run.world.removedClosedWith;
  });
  afterAll(() => server.stop());

  it('has a row for every request type of the request table', () => {
    expect(requestTypesWithoutRow()).toEqual([]);
    expect(Object.keys(AUTHORIZATION_MATRIX).sort()).toEqual(Object.keys(REQUEST_ANSWERS).sort());
  });

  it('closes the removed device’s open connection with AUTH_FAILED', () => {
    expect(removedClosedWith).toBe('AUTH_FAILED');
  });

  it.each(Object.keys(REQUEST_ANSWERS))('refuses %s to each principal with its code', (type) => {
    const row = results.filter((r) => r.type === type);
    expect(row).toHaveLength(3);
    expect(row.map((r) => `${r.principal}: ${r.observed}`)).toEqual(row.map((r) => `${r.principal}: ${r.expected}`));
  });
});
