import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { NatsServer } from '@pulse/testing/cluster';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountToken, NatsNames } from '../../src/edge/storage/nats/names.ts';
import { NatsStore } from '../../src/edge/storage/nats/nats-store.ts';

/**
 * Cluster mode keeps no sender of a sealed envelope either (PROTOCOL.md "Sealed
 * sender"): the stored JetStream message, read raw as the NATS operator can,
 * has no sender header and names the sender nowhere (subject, headers, data).
 */
let server: NatsServer;

beforeAll(async () => {
  server = await NatsServer.start();
});
afterAll(async () => {
  await server.remove();
});

describe('nats: a sealed envelope', () => {
  it('is stored with no sender header and no trace of the sender', async () => {
    const prefix = 'sealedraw';
    const store = await NatsStore.open({ servers: [server.url], prefix });
    const now = 1_700_000_000_000;
    await store.createAccount('alice', 'a', new Uint8Array(33).fill(1), now);
    await store.createAccount('bob', 'b', new Uint8Array(33).fill(2), now);
    const write = (from: { account: string; deviceId: number } | undefined, fill: number) => ({
      from,
      to: 'bob',
      envelopes: [{ deviceId: 1, payload: new Uint8Array(8).fill(fill) }],
      serverTime: now,
      expiresAt: now + 60_000,
      deviceIds: [1],
      queuedAtMost: [10],
    });
    const [[plain], [sealed]] = (await store.appendEnvelopes([
      write({ account: 'alice', deviceId: 1 }, 1),
      write(undefined, 2),
    ])) as [[string], [string]];
    await store.close();

    const nc = await connect({ servers: [server.url] });
    try {
      const jsm = await jetstreamManager(nc);
      const stream = new NatsNames(prefix).envelopeStream;
      const raw = async (seq: string) => {
        const message = await jsm.streams.getMessage(stream, { seq: Number(seq) });
        if (message === null) throw new Error(`no message ${seq}`);
        const headers = [...(message.header.keys() ?? [])].map((name) => `${name}: ${message.header.get(name)}`);
        return {
          headers,
          text: [message.subject, ...headers, Buffer.from(message.data).toString('latin1')].join('\n'),
        };
      };
      const alice = accountToken('alice');
      // The plain envelope names its sender: the check below could fail.
      expect((await raw(plain)).text).toContain(alice);
      const stored = await raw(sealed);
      expect(stored.headers.some((header) => header.startsWith('Pulse-From'))).toBe(false);
      expect(stored.text).not.toContain(alice);
      expect(stored.text).not.toContain('alice');
    } finally {
      await nc.close();
    }
  });
});
