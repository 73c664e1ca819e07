import type { FrameOf } from '@pulse/proto';
import { describe, expect, it } from 'vitest';
import type { SealedSenderAuthority } from '../../src/core/ports/sealed-sender.ts';
import { key, outcome, startCore, T0 } from '../helpers/core-harness.ts';

/**
 * Sealed sender in the core (PROTOCOL.md "Sealed sender"): certificates only for
 * the connection's own device, the delivery token checked before anything else,
 * envelopes stored and delivered without a sender, the byte quotas charged to
 * the recipient only. The authority is a stand-in (its bytes are JSON), as the
 * signatures are @pulse/crypto's business (server/test/edge/sealed-sender-keys.test.ts).
 */
const TTL = 3_600_000;
const fakeAuthority: SealedSenderAuthority = {
  certificateTtlMs: TTL,
  issueSenderCertificate: (fields) =>
    new TextEncoder().encode(JSON.stringify({ ...fields, identityKey: [...fields.identityKey] })),
  // Not a hash, but a different value than the token: the store must never hold the token itself.
  deliveryTokenVerifier: (token) => token.map((b) => b ^ 0x5a),
};
const token = (n: number) => new Uint8Array(32).fill(n);
const payload = (length: number) => new Uint8Array(length).fill(7);

async function withTwoAccounts(options: Parameters<typeof startCore>[0] = {}) {
  const harness = startCore({ sealedSender: fakeAuthority, ...options });
  const alice = await harness.register('alice');
  const bob = await harness.register('bob');
  return { ...harness, alice, bob };
}

const sealedSend = (to: string, deliveryToken: Uint8Array, length = 16): FrameOf<'sealed_send'> => ({
  type: 'sealed_send',
  id: 0,
  to,
  deliveryToken,
  envelopes: [{ deviceId: 1, payload: payload(length) }],
});

describe('sealed sender in the core', () => {
  it('issues a certificate for the asking device, with the identity key the store holds, valid for the TTL', async () => {
    const { alice } = await withTwoAccounts();
    const answer = await alice.request({ type: 'sender_certificate', id: 0 });
    if (answer.type !== 'certificate') throw new Error(outcome(answer));
    expect(answer.expiresAt).toBe(T0 + TTL);
    const fields = JSON.parse(new TextDecoder().decode(answer.certificate)) as Record<string, unknown>;
    expect(fields).toEqual({
      account: 'alice',
      deviceId: 1,
      identityKey: [...key('alice'.length)],
      expiresAt: T0 + TTL,
    });
  });

  it('signs at most once per session and half lifetime: asked again sooner, it hands out the same certificate', async () => {
    let signatures = 0;
    const counting: SealedSenderAuthority = {
      ...fakeAuthority,
      issueSenderCertificate: (fields) => {
        signatures++;
        return fakeAuthority.issueSenderCertificate(fields);
      },
    };
    const { alice, clock } = await withTwoAccounts({ sealedSender: counting });
    const ask = async () => {
      const answer = await alice.request({ type: 'sender_certificate', id: 0 });
      if (answer.type !== 'certificate') throw new Error(outcome(answer));
      return answer.expiresAt;
    };
    for (let i = 0; i < 20; i++) expect(await ask()).toBe(T0 + TTL);
    expect(signatures).toBe(1);
    clock.time += TTL / 2; // the clock alone: no heartbeat timer runs meanwhile
    expect(await ask()).toBe(T0 + TTL / 2 + TTL);
    expect(signatures).toBe(2);
  });

  it('refuses a sealed send without the recipient’s token, to an account without one, or to no account alike', async () => {
    const { alice, bob, metrics } = await withTwoAccounts();
    expect(outcome(await alice.request(sealedSend('bob', token(1))))).toBe('UNAUTHORIZED');
    expect(outcome(await alice.request(sealedSend('nobody', token(1))))).toBe('UNAUTHORIZED');
    expect(outcome(await bob.request({ type: 'set_delivery_token', id: 0, token: token(2) }))).toBe('ok');
    expect(outcome(await alice.request(sealedSend('bob', token(1))))).toBe('UNAUTHORIZED');
    expect(bob.take('deliver')).toEqual([]);
    expect(metrics.count('limit:memory:delivery_token')).toBe(3);
  });

  it('stores and delivers a sealed envelope without a sender', async () => {
    const { alice, bob, store } = await withTwoAccounts();
    await bob.request({ type: 'set_delivery_token', id: 0, token: token(2) });
    expect(await store.deliveryTokenVerifier('bob')).toEqual(fakeAuthority.deliveryTokenVerifier(token(2)));
    expect(outcome(await alice.request(sealedSend('bob', token(2))))).toBe('sent');
    const [delivered] = bob.take('deliver');
    expect(delivered).toMatchObject({ sealed: true, payload: payload(16) });
    expect(delivered).not.toHaveProperty('from');
    const [stored] = await store.pending('bob', 1, 0, 10, T0);
    expect(stored?.from).toBeUndefined();
    expect(stored?.sealed).toBe(true);
    // Still addressed like a send: every device of the account, no other.
    expect(
      outcome(
        await alice.request({
          ...sealedSend('bob', token(2)),
          envelopes: [
            { deviceId: 1, payload: payload(4) },
            { deviceId: 9, payload: payload(4) },
          ],
        }),
      ),
    ).toBe('DEVICES_MISMATCH');
  });

  it('charges a sealed envelope to the recipient’s byte quota only, never to the sender’s', async () => {
    const { alice, bob } = await withTwoAccounts({ limits: { senderQueuedBytes: 100, accountQueuedBytes: 300 } });
    await bob.request({ type: 'set_delivery_token', id: 0, token: token(2) });
    const plain = (length: number) => ({
      type: 'send' as const,
      id: 0,
      to: 'bob',
      envelopes: [{ deviceId: 1, payload: payload(length) }],
    });
    expect(outcome(await alice.request(plain(90)))).toBe('sent');
    expect(outcome(await alice.request(plain(20)))).toBe('QUOTA_EXCEEDED');
    // The sealed ones are nobody's on the sender side: past alice's 100 bytes, up to bob's 300.
    expect(outcome(await alice.request(sealedSend('bob', token(2), 150)))).toBe('sent');
    expect(outcome(await alice.request(sealedSend('bob', token(2), 60)))).toBe('sent');
    expect(outcome(await alice.request(sealedSend('bob', token(2), 10)))).toBe('QUEUE_FULL');
  });

  it('answers UNAVAILABLE where the server offers no sealed sender', async () => {
    const harness = startCore();
    const alice = await harness.register('alice');
    expect(outcome(await alice.request({ type: 'sender_certificate', id: 0 }))).toBe('UNAVAILABLE');
    expect(outcome(await alice.request({ type: 'set_delivery_token', id: 0, token: token(1) }))).toBe('UNAVAILABLE');
  });
});
