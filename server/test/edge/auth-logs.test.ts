/**
 * Logs keep no per-account login history and no IP↔account pairs at info level
 * (issue 11): authentication is logged with its method and transport only; the
 * account and device appear at debug level, the peer's address never.
 */
import { authSignedMessage } from '@pulse/proto';
import { dialWebSocket } from '@pulse/testing';
import { FrameClient, register } from '@pulse/testing/protocol';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EdgeServer, startEdgeServer } from './edge-server.ts';

describe('authentication logs', () => {
  const lines: string[] = [];
  let edge: EdgeServer;
  beforeAll(async () => {
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    edge = await startEdgeServer({}, { logger });
  });
  afterAll(() => edge.stop());

  it('name no account, device or address at info level, for successes and failures', async () => {
    const dial = dialWebSocket(`ws://127.0.0.1:${edge.httpPort}/pulse/ws`);
    const device = await register(dial);
    const byToken = await FrameClient.connect(dial);
    const signature = device.identity.sign(authSignedMessage(byToken.challenge, device.account, 1));
    const ok = await byToken.expect(
      { type: 'auth', id: 0, account: device.account, deviceId: 1, signature },
      'auth_ok',
    );
    const again = await FrameClient.connect(dial);
    await again.expect({ type: 'auth_token', id: 0, token: ok.token }, 'auth_ok');
    const refused = await FrameClient.connect(dial);
    const wrong = device.identity.sign(authSignedMessage(refused.challenge, device.account, 2));
    const answer = await refused.request({
      type: 'auth',
      id: 0,
      account: device.account,
      deviceId: 1,
      signature: wrong,
    });
    expect(answer).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
    for (const client of [device.client, byToken, again, refused]) client.close();

    const text = lines.join('');
    expect(text).toContain('authenticated');
    expect(text).toContain('authentication refused');
    expect(text).not.toContain(device.account);
    expect(text).not.toContain('127.0.0.1');
    for (const line of lines) expect(JSON.parse(line)).not.toHaveProperty('deviceId');
  });
});
