import { randomBytes } from 'node:crypto';
import { type Device, InProcessServer, type InProcessServerOptions, register } from '@pulse/testing';
import { describe, expect, it } from 'vitest';
import { withServer } from '../helpers/with-server.ts';

/** An in-process server (real SQLite file) started with `options`, stopped after `body`. */
const withInProcess = (options: InProcessServerOptions, body: (server: InProcessServer) => Promise<void>) =>
  withServer(() => InProcessServer.start(options), body);

/** Incompressible payloads: the database grows by what they hold. */
const payload = (n: number) => new Uint8Array(randomBytes(n));

/** Sends `n` envelopes of `size` bytes from `from` to `to`'s device 1; returns each answer's type or error code. */
async function sendMany(from: Device, to: Device, n: number, size: number): Promise<string[]> {
  const outcomes: string[] = [];
  for (let i = 0; i < n; i++) {
    const answer = await from.client.request({
      type: 'send',
      id: 0,
      to: to.account,
      envelopes: [{ deviceId: 1, payload: payload(size) }],
    });
    outcomes.push(answer.type === 'error' ? answer.code : answer.type);
  }
  return outcomes;
}

/** Takes `n` deliveries on `device`'s connection and acknowledges each. */
async function drain(device: Device, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const deliver = await device.client.next('deliver');
    device.client.send({ type: 'deliver_ack', envelopeIds: [deliver.envelopeId] });
  }
}

/** Byte quotas and the disk high-water mark on the real SQLite store (issue 11, "The disk can be filled"). */
describe('storage quotas (SQLite)', () => {
  it('limits the undelivered bytes of one sender (QUOTA_EXCEEDED), whoever the recipients are', async () => {
    await withInProcess({ limits: { senderQueuedBytes: 100_000, maxMessageSize: 40_000 } }, async (server) => {
      const sender = await register(server.dial());
      const bob = await register(server.dial());
      const carol = await register(server.dial());
      bob.client.close();
      carol.client.close();
      expect(await sendMany(sender, bob, 2, 40_000)).toEqual(['sent', 'sent']);
      expect(await sendMany(sender, carol, 1, 40_000)).toEqual(['QUOTA_EXCEEDED']);
      // Another sender is unaffected.
      const other = await register(server.dial());
      expect(await sendMany(other, carol, 1, 40_000)).toEqual(['sent']);
    });
  });

  it('limits the undelivered bytes waiting for one account (QUEUE_FULL), whoever sends', async () => {
    await withInProcess({ limits: { accountQueuedBytes: 100_000, maxMessageSize: 40_000 } }, async (server) => {
      const target = await register(server.dial());
      target.client.close();
      const senders = [await register(server.dial()), await register(server.dial()), await register(server.dial())];
      const outcomes = [];
      for (const sender of senders) outcomes.push(...(await sendMany(sender, target, 1, 40_000)));
      expect(outcomes).toEqual(['sent', 'sent', 'QUEUE_FULL']);
    });
  });

  it('refuses sends above the disk high-water mark (STORAGE_FULL) while acks go on, then accepts again', async () => {
    // A fresh database holds well under 1 MB; 25 × 40 kB pass that.
    await withInProcess({ limits: { storageMaxBytes: 1_000_000, maxMessageSize: 40_000 } }, async (server) => {
      const sender = await register(server.dial());
      const recipient = await register(server.dial());
      recipient.client.close();
      const outcomes = await sendMany(sender, recipient, 40, 40_000);
      const stored = outcomes.filter((outcome) => outcome === 'sent').length;
      expect(stored).toBeGreaterThan(5);
      expect(outcomes.slice(stored)).toEqual(Array(40 - stored).fill('STORAGE_FULL'));
      const limited = (await server.node.metrics.limitViolations.get()).values;
      expect(limited.find((v) => v.labels.limit === 'storage_full')?.value).toBe(40 - stored);
      // The recipient still gets and acknowledges everything stored; the freed pages make room again.
      const { reconnect } = await import('@pulse/testing');
      await reconnect(server.dial(), recipient);
      await drain(recipient, stored);
      await recipient.client.expect({ type: 'sync', id: 0 }, 'sync_done');
      expect(await sendMany(sender, recipient, 1, 40_000)).toEqual(['sent']);
    });
  });
});
