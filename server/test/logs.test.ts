import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { register } from './helpers/client.ts';
import { startTestServer } from './helpers/server.ts';
import { websocketDial } from './helpers/websocket-dial.ts';

describe('structured logs', () => {
  it('record events as JSON but never payloads, keys, signatures or tokens', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const server = await startTestServer({}, { logger: pino({ level: 'trace' }, sink) });
    try {
      const dial = websocketDial(server.httpPort);
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
      await alice.client.link.closed;
    } finally {
      await server.stop();
    }
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
