import { authSignedMessage } from '@pulse/proto';
import { FrameClient, InProcessServer, register } from '@pulse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Access tokens (issue 11, "a token is forever"): a token is renewed only by a
 * signature, so one that leaks dies at its expiry however often it is used.
 */
describe('access token lifetime', () => {
  const HOUR = 3600 * 1000;
  let now = Date.UTC(2026, 0, 1);
  let server: InProcessServer;
  beforeAll(() => {
    server = InProcessServer.start({ now: () => now, limits: { tokenTtl: 24 * HOUR } });
  });
  afterAll(() => server.stop());

  it('answers auth_token with the same token and expiry, never a fresh one', async () => {
    const device = await register(server.dial());
    const byToken = await FrameClient.connect(server.dial());
    const signature = device.identity.sign(authSignedMessage(byToken.challenge, device.account, 1));
    const signed = await byToken.expect(
      { type: 'auth', id: 0, account: device.account, deviceId: 1, signature },
      'auth_ok',
    );
    now += HOUR;
    const client = await FrameClient.connect(server.dial());
    const ok = await client.expect({ type: 'auth_token', id: 0, token: signed.token }, 'auth_ok');
    expect(ok.token).toEqual(signed.token);
    expect(ok.tokenExpiresAt).toBe(signed.tokenExpiresAt);
  });

  it('refuses a token after its expiry even when it was used all along', async () => {
    const device = await register(server.dial());
    const first = await FrameClient.connect(server.dial());
    const signature = device.identity.sign(authSignedMessage(first.challenge, device.account, 1));
    let ok = await first.expect({ type: 'auth', id: 0, account: device.account, deviceId: 1, signature }, 'auth_ok');
    const expiresAt = ok.tokenExpiresAt;
    // A thief reconnects every 6 hours with whatever token the last auth_ok carried.
    for (let round = 0; round < 3; round++) {
      now += 6 * HOUR;
      const client = await FrameClient.connect(server.dial());
      ok = await client.expect({ type: 'auth_token', id: 0, token: ok.token }, 'auth_ok');
    }
    now = expiresAt;
    const late = await FrameClient.connect(server.dial());
    expect(await late.request({ type: 'auth_token', id: 0, token: ok.token })).toMatchObject({
      type: 'error',
      code: 'AUTH_FAILED',
    });
    // A signature still works and earns a new token.
    const again = await FrameClient.connect(server.dial());
    const fresh = await again.expect(
      {
        type: 'auth',
        id: 0,
        account: device.account,
        deviceId: 1,
        signature: device.identity.sign(authSignedMessage(again.challenge, device.account, 1)),
      },
      'auth_ok',
    );
    expect(fresh.tokenExpiresAt).toBe(now + 24 * HOUR);
  });
});
