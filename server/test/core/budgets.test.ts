import { describe, expect, it } from 'vitest';
import { key, outcome, startCore } from '../helpers/core-harness.ts';

const signature = new Uint8Array(64);

/** Budgets per connection, account, device and pair (issue 11): each refuses past its bound and refills with time. */
describe('budgets', () => {
  it('limits the bytes a connection sends (rate_bytes), not only its frames', async () => {
    const { register, clock, metrics } = startCore({
      limits: { rateBytes: 1_000, rateBytesBurst: 4_096, maxFrameBytes: 4_096, maxMessageSize: 1_500 },
    });
    const alice = await register('alice');
    const publish = () =>
      alice.request({ type: 'publish', id: 0, channel: 'public:x', payload: new Uint8Array(1_500) });
    const answers = [];
    for (let i = 0; i < 2; i++) answers.push(await publish());
    // The register frame and two publications fit 4,096 bytes; the third does not, nor the fourth, which
    // comes before the retry hint and goes unanswered (one answer per refusal burst, without an id: a
    // refused frame is not decoded).
    for (let i = 0; i < 2; i++)
      await alice.send({ type: 'publish', id: 50 + i, channel: 'public:x', payload: new Uint8Array(1_500) });
    expect(answers.map(outcome)).toEqual(['published', 'published']);
    const refused = alice.take('error');
    expect(refused.map(outcome)).toEqual(['RATE_LIMITED']);
    expect(refused[0]).toMatchObject({ message: 'too many bytes on this connection' });
    expect(refused[0]).not.toHaveProperty('id');
    expect(refused[0]!.retryAfterMs).toBeGreaterThan(0);
    expect(metrics.count('limit:memory:rate_bytes')).toBe(2);
    expect(metrics.count('limit:memory:rate_unanswered')).toBe(1);
    clock.time += 2_000;
    expect(outcome(await publish())).toBe('published');
  });

  it('limits bundle fetches per (requester, target) and per target, so free accounts cannot drain one-time prekeys', async () => {
    const { register, metrics, store } = startCore({ limits: { prekeyFetchesPerPair: 2, prekeyFetchesPerTarget: 3 } });
    const target = await register('target');
    const oneTimePreKeys = Array.from({ length: 10 }, (_, i) => ({ keyId: i + 1, publicKey: key(i + 1) }));
    const upload = await target.request({
      type: 'prekeys_upload',
      id: 0,
      signedPreKey: { keyId: 1, publicKey: key(1), signature },
      pqLastResortPreKey: { keyId: 2, publicKey: new Uint8Array(1569), signature },
      oneTimePreKeys,
      proof: signature,
    });
    expect(outcome(upload)).toBe('ok');
    const fetch = async (requester: Awaited<ReturnType<typeof register>>) =>
      outcome(await requester.request({ type: 'bundle_fetch', id: 0, account: 'target' }));
    const mallory = await register('mallory');
    expect([await fetch(mallory), await fetch(mallory), await fetch(mallory)]).toEqual([
      'bundles',
      'bundles',
      'RATE_LIMITED',
    ]);
    expect(metrics.count('limit:memory:prekey_fetches_per_pair')).toBe(1);
    const sybil = await register('sybil');
    expect([await fetch(sybil), await fetch(sybil)]).toEqual(['bundles', 'RATE_LIMITED']);
    expect(metrics.count('limit:memory:prekey_fetches_per_target')).toBe(1);
    // Three one-time prekeys were handed out, whatever the number of accounts asking.
    expect((await store.oneTimePreKeyIds('target', 1)).ec).toHaveLength(7);
  });

  it('limits subscribes per account (channel_joins), on all its connections: join/leave spam reaches no one', async () => {
    const { register, clock, metrics } = startCore({ limits: { channelJoins: 3 } });
    const alice = await register('alice');
    const subscribe = async (channel: string) => outcome(await alice.request({ type: 'subscribe', id: 0, channel }));
    expect([await subscribe('public:a'), await subscribe('public:b'), await subscribe('public:c')]).toEqual([
      'subscribed',
      'subscribed',
      'subscribed',
    ]);
    expect(await subscribe('public:d')).toBe('RATE_LIMITED');
    // Leaving is never refused.
    expect(outcome(await alice.request({ type: 'unsubscribe', id: 0, channel: 'public:a' }))).toBe('ok');
    expect(metrics.count('limit:memory:channel_joins')).toBe(1);
    clock.time += 20_000;
    expect(await subscribe('public:d')).toBe('subscribed');
  });
});
