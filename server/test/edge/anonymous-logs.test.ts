/**
 * Anonymous connections log nothing that pairs an address with a sender or a
 * recipient (PROTOCOL.md "Anonymous connections", server README "Metrics"):
 * at debug level, the most the server logs, what is written while one
 * connects, sends sealed (accepted and refused) and closes names neither the
 * peer's address nor the recipient's account.
 */
import { dialWebSocket } from '@pulse/testing';
import { FrameClient, register } from '@pulse/testing/protocol';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EdgeServer, startEdgeServer } from './edge-server.ts';

describe('anonymous connection logs', () => {
  const lines: string[] = [];
  let edge: EdgeServer;
  beforeAll(async () => {
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    edge = await startEdgeServer({}, { logger });
  });
  afterAll(() => edge.stop());

  it('name no address and no account at debug level', async () => {
    const dial = dialWebSocket(`ws://127.0.0.1:${edge.httpPort}/pulse/ws`);
    const bob = await register(dial);
    const token = new Uint8Array(32).fill(4);
    await bob.client.expect({ type: 'set_delivery_token', id: 0, token }, 'ok');

    const before = lines.length;
    const anonymous = await FrameClient.open(dial);
    await anonymous.exchange({ type: 'hello', versions: [2], client: 'logs', anonymous: true }, 'welcome');
    const sealed = (deliveryToken: Uint8Array) => ({
      type: 'sealed_send' as const,
      id: 0,
      to: bob.account,
      deliveryToken,
      envelopes: [{ deviceId: 1, payload: new Uint8Array(8) }],
    });
    expect(await anonymous.request(sealed(token))).toMatchObject({ type: 'sent' });
    expect(await anonymous.request(sealed(new Uint8Array(32)))).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await anonymous.request({ type: 'sender_certificate', id: 0 })).toMatchObject({ code: 'AUTH_REQUIRED' });
    anonymous.close();
    await bob.client.next('deliver');
    // The server noticed the close (its debug line "session ended" is among those checked).
    for (let waited = 0; edge.server.sessionCount > 1 && waited < 5_000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(edge.server.sessionCount).toBe(1);

    const during = lines.slice(before).join('');
    expect(during).toContain('session ended');
    expect(during).not.toContain('127.0.0.1');
    expect(during).not.toContain(bob.account);
    bob.client.close();
  });
});
