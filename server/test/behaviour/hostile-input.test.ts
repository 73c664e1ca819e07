import { InProcessServer, register } from '@pulse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Hostile input the core must refuse; garbage, truncated and oversized frames are in the conformance suite. */
describe('hostile input', () => {
  let server: InProcessServer;
  beforeAll(() => {
    server = InProcessServer.start({ limits: { maxFrameBytes: 64 * 1024, maxMessageSize: 32 * 1024 } });
  });
  afterAll(() => server.stop());

  it('refuses server-to-client frames sent by a client', async () => {
    const device = await register(server.dial());
    const answer = await device.client.request({ type: 'published', id: 0, offset: 1 });
    expect(answer).toMatchObject({ type: 'error', code: 'PROTO_UNKNOWN_TYPE' });
  });
});
