import { InProcessServer, register } from '@pulse/testing';
import { describe, expect, it } from 'vitest';

describe('structured logs', () => {
  it('record events as JSON but never payloads, keys, signatures or tokens', async () => {
    const server = InProcessServer.start({ logLevel: 'trace' });
    try {
      const dial = server.dial();
      const alice = await register(dial);
      const bob = await register(dial);
      const secret = new Uint8Array(48).fill(0xab);
      await alice.client.expect(
        { type: 'send', id: 0, to: bob.account, envelopes: [{ deviceId: 1, payload: secret }] },
        'sent',
      );
      await alice.client.expect({ type: 'publish', id: 0, channel: 'public:logs', payload: secret }, 'published');
      const ok = await bob.client.next('deliver');
      expect(ok.payload).toEqual(secret);
      alice.client.close();
      await alice.client.closed();
    } finally {
      await server.stop();
    }
    const lines = server.logs().split('\n').filter(Boolean);
    const text = lines.join('\n');
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(text).toContain('authenticated');
    const forbidden = [
      Buffer.from(new Uint8Array(48).fill(0xab)).toString('hex'),
      Buffer.from(new Uint8Array(48).fill(0xab)).toString('base64'),
      '171,171,171',
      'identityKey',
      'signature',
      'token',
      'payload',
    ];
    for (const needle of forbidden) expect(text).not.toContain(needle);
  });
});
