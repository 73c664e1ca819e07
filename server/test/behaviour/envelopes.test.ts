import { InProcessServer, linkDevice, reconnect, register } from '@pulse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytes } from '../helpers/assertions.ts';

describe('envelopes', () => {
  let server: InProcessServer;
  beforeAll(() => {
    server = InProcessServer.start({ limits: { queuePerDevice: 5 } });
  });
  afterAll(() => server.stop());

  it('delivers at once to an online device, in order, and acknowledges only with ids', async () => {
    const alice = await register(server.dial());
    const bob = await register(server.dial());
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const sent = await alice.client.expect(
        { type: 'send', id: 0, to: bob.account, envelopes: [{ deviceId: 1, payload: bytes(10, i) }] },
        'sent',
      );
      ids.push(...sent.envelopeIds);
    }
    const delivered = [];
    for (let i = 0; i < 4; i++) delivered.push(await bob.client.next('deliver'));
    expect(delivered.map((d) => d.envelopeId)).toEqual(ids);
    expect(delivered.map((d) => d.payload[0])).toEqual([0, 1, 2, 3]);
    expect(delivered[0]!.from).toEqual({ account: alice.account, deviceId: 1 });
    bob.client.send({ type: 'deliver_ack', envelopeIds: ids });
  });

  it('stores for an offline device and delivers on reconnect; unacknowledged ones come again (at least once)', async () => {
    const alice = await register(server.dial());
    const bob = await register(server.dial());
    bob.client.close();
    await bob.client.closed();
    const sent = await alice.client.expect(
      { type: 'send', id: 0, to: bob.account, envelopes: [{ deviceId: 1, payload: bytes(3, 1) }] },
      'sent',
    );
    const sent2 = await alice.client.expect(
      { type: 'send', id: 0, to: bob.account, envelopes: [{ deviceId: 1, payload: bytes(3, 2) }] },
      'sent',
    );
    await reconnect(server.dial(), bob);
    const first = await bob.client.next('deliver');
    const second = await bob.client.next('deliver');
    expect([first.envelopeId, second.envelopeId]).toEqual([...sent.envelopeIds, ...sent2.envelopeIds]);
    bob.client.send({ type: 'deliver_ack', envelopeIds: [first.envelopeId] });
    // Only the acknowledged one is gone: sync redelivers the other.
    const done = await bob.client.expect({ type: 'sync', id: 0 }, 'sync_done');
    expect(done.delivered).toBe(1);
    const again = await bob.client.next('deliver');
    expect(again.envelopeId).toBe(second.envelopeId);
    bob.client.send({ type: 'deliver_ack', envelopeIds: [second.envelopeId] });
    // Frames are handled in order: the pong proves the ack was processed before we leave.
    await bob.client.exchange({ type: 'ping', nonce: 1 }, 'pong');
    bob.client.close();
    await bob.client.closed();
    await reconnect(server.dial(), bob);
    const empty = await bob.client.expect({ type: 'sync', id: 0 }, 'sync_done');
    expect(empty.delivered).toBe(0);
  });

  it('sends to the own account address the other devices only', async () => {
    const first = await register(server.dial());
    const second = await linkDevice(server.dial(), first);
    const mismatch = await first.client.request({
      type: 'send',
      id: 0,
      to: first.account,
      envelopes: [
        { deviceId: 1, payload: bytes(1) },
        { deviceId: 2, payload: bytes(1) },
      ],
    });
    expect(mismatch).toMatchObject({ type: 'error', code: 'DEVICES_MISMATCH' });
    await first.client.expect(
      { type: 'send', id: 0, to: first.account, envelopes: [{ deviceId: 2, payload: bytes(1, 9) }] },
      'sent',
    );
    const got = await second.client.next('deliver');
    expect(got.from).toEqual({ account: first.account, deviceId: 1 });
  });

  it('refuses envelopes that do not address exactly the devices (DEVICES_MISMATCH) or an unknown account', async () => {
    const alice = await register(server.dial());
    const bob = await register(server.dial());
    const wrong = await alice.client.request({
      type: 'send',
      id: 0,
      to: bob.account,
      envelopes: [{ deviceId: 7, payload: bytes(1) }],
    });
    expect(wrong).toMatchObject({ type: 'error', code: 'DEVICES_MISMATCH' });
    const unknown = await alice.client.request({
      type: 'send',
      id: 0,
      to: 'no-such-account',
      envelopes: [{ deviceId: 1, payload: bytes(1) }],
    });
    expect(unknown).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
  });

  it('answers each of many pipelined sends of one batch on its own: refusals do not touch the others', async () => {
    const alice = await register(server.dial());
    const bob = await register(server.dial());
    // Sent in one go, so they reach the same group commit.
    const answers = await Promise.all([
      alice.client.request({
        type: 'send',
        id: 0,
        to: bob.account,
        envelopes: [{ deviceId: 1, payload: bytes(1, 1) }],
      }),
      alice.client.request({
        type: 'send',
        id: 0,
        to: bob.account,
        envelopes: [{ deviceId: 2, payload: bytes(1, 2) }],
      }),
      alice.client.request({
        type: 'send',
        id: 0,
        to: bob.account,
        envelopes: [{ deviceId: 1, payload: bytes(1, 3) }],
      }),
    ]);
    expect(answers.map((a) => (a.type === 'error' ? a.code : a.type))).toEqual(['sent', 'DEVICES_MISMATCH', 'sent']);
    const delivered = [await bob.client.next('deliver'), await bob.client.next('deliver')];
    expect(delivered.map((d) => d.payload[0])).toEqual([1, 3]);
  });

  it('expires undelivered envelopes after the TTL and tells the online sender (ENVELOPE_EXPIRED)', async () => {
    let now = Date.now();
    const short = InProcessServer.start({ limits: { envelopeTtl: 150 }, now: () => now });
    try {
      const alice = await register(short.dial());
      const bob = await register(short.dial());
      bob.client.close();
      await bob.client.closed();
      const sent = await alice.client.expect(
        { type: 'send', id: 0, to: bob.account, envelopes: [{ deviceId: 1, payload: bytes(1) }] },
        'sent',
      );
      now += 149;
      await short.node.purgeExpired();
      now += 1;
      await short.node.purgeExpired();
      const notice = await alice.client.next('error');
      expect(notice).toMatchObject({ code: 'ENVELOPE_EXPIRED' });
      expect(notice.id).toBeUndefined();
      expect(notice.message).toContain(`${sent.envelopeIds[0]} (to ${bob.account}/1)`);
      expect(alice.client.inbox.filter((f) => f.type === 'error')).toEqual([]);
      await reconnect(short.dial(), bob);
      expect((await bob.client.expect({ type: 'sync', id: 0 }, 'sync_done')).delivered).toBe(0);
    } finally {
      await short.stop();
    }
  });

  it('keeps at most delivery_window envelopes in flight and refills on ack', async () => {
    const windowed = InProcessServer.start({ limits: { deliveryWindow: 3 } });
    try {
      const alice = await register(windowed.dial());
      const bob = await register(windowed.dial());
      bob.client.close();
      await bob.client.closed();
      for (let i = 0; i < 5; i++) {
        await alice.client.expect(
          { type: 'send', id: 0, to: bob.account, envelopes: [{ deviceId: 1, payload: bytes(1, i) }] },
          'sent',
        );
      }
      await reconnect(windowed.dial(), bob);
      await bob.client.exchange({ type: 'ping', nonce: 1 }, 'pong');
      const first = bob.client.inbox.filter((f) => f.type === 'deliver');
      expect(first.map((f) => (f.type === 'deliver' ? f.payload[0] : -1))).toEqual([0, 1, 2]);
      bob.client.inbox.length = 0;
      bob.client.send({
        type: 'deliver_ack',
        envelopeIds: [first[0]!.type === 'deliver' ? first[0]!.envelopeId : ''],
      });
      const next = await bob.client.next('deliver');
      expect(next.payload[0]).toBe(3);
      await bob.client.exchange({ type: 'ping', nonce: 2 }, 'pong');
      expect(bob.client.inbox.filter((f) => f.type === 'deliver')).toHaveLength(0);
    } finally {
      await windowed.stop();
    }
  });

  it('refuses beyond the per-device queue with QUEUE_FULL', async () => {
    const alice = await register(server.dial());
    const bob = await register(server.dial());
    bob.client.close();
    await bob.client.closed();
    for (let i = 0; i < 5; i++) {
      await alice.client.expect(
        { type: 'send', id: 0, to: bob.account, envelopes: [{ deviceId: 1, payload: bytes(1) }] },
        'sent',
      );
    }
    const full = await alice.client.request({
      type: 'send',
      id: 0,
      to: bob.account,
      envelopes: [{ deviceId: 1, payload: bytes(1) }],
    });
    expect(full).toMatchObject({ type: 'error', code: 'QUEUE_FULL' });
    const violations = await server.node.metrics.limitViolations.get();
    expect(violations.values.find((v) => v.labels.limit === 'queue_per_device')?.value).toBe(1);
  });

  it('counts a queue cap reached within one group commit (QUEUE_FULL for the sixth of six pipelined sends)', async () => {
    const alice = await register(server.dial());
    const bob = await register(server.dial());
    bob.client.close();
    await bob.client.closed();
    const send = () =>
      alice.client.request({ type: 'send', id: 0, to: bob.account, envelopes: [{ deviceId: 1, payload: bytes(1) }] });
    const answers = await Promise.all(Array.from({ length: 6 }, send));
    expect(answers.map((a) => (a.type === 'error' ? a.code : a.type))).toEqual([
      'sent',
      'sent',
      'sent',
      'sent',
      'sent',
      'QUEUE_FULL',
    ]);
  });
});
