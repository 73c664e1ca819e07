import { InProcessServer, register } from '@pulse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytes } from '../helpers/assertions.ts';

describe('channels and presence', () => {
  let server: InProcessServer;
  beforeAll(() => {
    server = InProcessServer.start({ limits: { maxChannels: 3, historySize: 3 } });
  });
  afterAll(() => server.stop());

  it('publishes to every subscriber with the same bytes and an increasing offset', async () => {
    const [a, b, c] = [await register(server.dial()), await register(server.dial()), await register(server.dial())];
    for (const d of [a, b]) await d.client.expect({ type: 'subscribe', id: 0, channel: 'public:room1' }, 'subscribed');
    const p1 = await c.client.expect(
      { type: 'publish', id: 0, channel: 'public:room1', payload: bytes(5, 1) },
      'published',
    );
    const p2 = await c.client.expect(
      { type: 'publish', id: 0, channel: 'public:room1', payload: bytes(5, 2) },
      'published',
    );
    expect(p2.offset).toBe(p1.offset + 1);
    for (const d of [a, b]) {
      const m1 = await d.client.next('channel_message');
      const m2 = await d.client.next('channel_message');
      expect([m1.offset, m2.offset]).toEqual([p1.offset, p2.offset]);
      expect(m1.from).toEqual({ account: c.account, deviceId: 1 });
      expect(m2.payload).toEqual(bytes(5, 2));
    }
  });

  it('applies the channel rules (FORBIDDEN)', async () => {
    const a = await register(server.dial());
    const b = await register(server.dial());
    await b.client.expect({ type: 'subscribe', id: 0, channel: `user:${a.account}/status` }, 'subscribed');
    const foreign = await b.client.request({
      type: 'publish',
      id: 0,
      channel: `user:${a.account}/status`,
      payload: bytes(1),
    });
    expect(foreign).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
    await a.client.expect(
      { type: 'publish', id: 0, channel: `user:${a.account}/status`, payload: bytes(1) },
      'published',
    );
    const message = await b.client.next('channel_message');
    expect(message.from.account).toBe(a.account);
    const privateSub = await b.client.request({ type: 'subscribe', id: 0, channel: `private:${a.account}` });
    expect(privateSub).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
    const noNamespace = await b.client.request({ type: 'subscribe', id: 0, channel: 'random' });
    expect(noNamespace).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
    // An invalid name fails validation; the request id itself is valid, so the error echoes it.
    b.client.send({ type: 'subscribe', id: 99, channel: 'public:bad name' });
    expect(await b.client.next('error')).toMatchObject({ id: 99, code: 'PROTO_BAD_FIELD' });
  });

  it('replays missed messages from an offset, or says recovered=false', async () => {
    const a = await register(server.dial());
    const b = await register(server.dial());
    const sub = await b.client.expect({ type: 'subscribe', id: 0, channel: 'public:history' }, 'subscribed');
    expect(sub.recovered).toBe(true);
    await b.client.expect({ type: 'unsubscribe', id: 0, channel: 'public:history' }, 'ok');
    for (let i = 1; i <= 2; i++) {
      await a.client.expect({ type: 'publish', id: 0, channel: 'public:history', payload: bytes(1, i) }, 'published');
    }
    const back = await b.client.expect(
      { type: 'subscribe', id: 0, channel: 'public:history', since: { epoch: sub.epoch, offset: sub.offset } },
      'subscribed',
    );
    expect(back.recovered).toBe(true);
    const missed = [await b.client.next('channel_message'), await b.client.next('channel_message')];
    expect(missed.map((m) => m.payload[0])).toEqual([1, 2]);
    // History holds 3: after 3 more publications, offset `sub.offset` is gone.
    await b.client.expect({ type: 'unsubscribe', id: 0, channel: 'public:history' }, 'ok');
    for (let i = 3; i <= 5; i++) {
      await a.client.expect({ type: 'publish', id: 0, channel: 'public:history', payload: bytes(1, i) }, 'published');
    }
    const lost = await b.client.expect(
      { type: 'subscribe', id: 0, channel: 'public:history', since: { epoch: sub.epoch, offset: sub.offset } },
      'subscribed',
    );
    expect(lost.recovered).toBe(false);
    const wrongEpoch = await a.client.expect(
      { type: 'subscribe', id: 0, channel: 'public:history', since: { epoch: 'old', offset: 1 } },
      'subscribed',
    );
    expect(wrongEpoch.recovered).toBe(false);
  });

  it('sends a presence snapshot, then join and leave (also on disconnect)', async () => {
    const a = await register(server.dial());
    const b = await register(server.dial());
    await a.client.expect({ type: 'subscribe', id: 0, channel: 'public:lobby', presence: true }, 'subscribed');
    const snapshot = await a.client.next('presence_snapshot');
    expect(snapshot.members.map((m) => m.account)).toEqual([a.account]);
    await b.client.expect({ type: 'subscribe', id: 0, channel: 'public:lobby', presence: true }, 'subscribed');
    const join = await a.client.next('presence_join');
    expect(join.member).toMatchObject({ account: b.account, deviceId: 1 });
    const snapshotB = await b.client.next('presence_snapshot');
    expect(snapshotB.members.map((m) => m.account).sort()).toEqual([a.account, b.account].sort());
    b.client.close();
    const leave = await a.client.next('presence_leave');
    expect(leave.member.account).toBe(b.account);
  });

  it('limits channels per connection (TOO_MANY_CHANNELS); unsubscribing an unknown channel is NOT_FOUND', async () => {
    const a = await register(server.dial());
    for (let i = 0; i < 3; i++)
      await a.client.expect({ type: 'subscribe', id: 0, channel: `public:c${i}` }, 'subscribed');
    const over = await a.client.request({ type: 'subscribe', id: 0, channel: 'public:c4' });
    expect(over).toMatchObject({ type: 'error', code: 'TOO_MANY_CHANNELS' });
    const notSubscribed = await a.client.request({ type: 'unsubscribe', id: 0, channel: 'public:c4' });
    expect(notSubscribed).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
  });
});
