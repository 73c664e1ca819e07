import { describe, expect, it } from 'vitest';
import { startCore } from '../helpers/core-harness.ts';

/** Acks count only for what was delivered to that device on that connection (issue 11). */
describe('acks', () => {
  it('ignores an ack of an envelope not delivered yet (ack_unknown): it stays queued and comes later', async () => {
    const { register, store, metrics } = startCore({ limits: { deliveryWindow: 1 } });
    const alice = await register('alice');
    const bob = await register('bob');
    const sent = [];
    for (const fill of [1, 2]) {
      sent.push(
        await alice.request({
          type: 'send',
          id: 0,
          to: 'bob',
          envelopes: [{ deviceId: 1, payload: Uint8Array.of(fill) }],
        }),
      );
    }
    const ids = sent.map((answer) => (answer.type === 'sent' ? answer.envelopeIds[0]! : ''));
    // The window lets one through; bob acknowledges both, the second unseen.
    expect(bob.take('deliver').map((d) => d.envelopeId)).toEqual([ids[0]]);
    await bob.send({ type: 'deliver_ack', envelopeIds: ids });
    expect(metrics.count('limit:memory:ack_unknown')).toBe(1);
    expect(await store.queueLength('bob', 1)).toBe(1);
    // The first ack opened the window: the second comes, and its ack now counts.
    expect(bob.take('deliver').map((d) => d.envelopeId)).toEqual([ids[1]]);
    await bob.send({ type: 'deliver_ack', envelopeIds: [ids[1]!] });
    expect(await store.queueLength('bob', 1)).toBe(0);
  });
});
