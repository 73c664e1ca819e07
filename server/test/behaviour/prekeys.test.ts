import { generateIdentityKeyPair } from '@pulse/crypto';
import { prekeysUploadSignedMessage } from '@pulse/proto';
import { type Device, InProcessServer, reconnect, register } from '@pulse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('prekeys', () => {
  let server: InProcessServer;
  beforeAll(() => {
    server = InProcessServer.start({ limits: { prekeysLowThreshold: 2, prekeyFetches: 5, maxPrekeysPerDevice: 4 } });
  });
  afterAll(() => server.stop());

  /** An upload by `device` on its current connection: EC keys of 33 bytes, ML-KEM keys of 1569, and the proof. */
  const upload = (device: Device, oneTimeIds = [10, 11, 12]) => {
    const sign = (k: Uint8Array) => device.identity.sign(k);
    const ecKey = (n: number) => generateIdentityKeyPair().publicKey.map((b, i) => (i === 0 ? b : b ^ n));
    const kemKey = (n: number) => new Uint8Array(1569).fill(n & 0xff).fill(0x0a, 0, 1);
    const signed = (keyId: number, publicKey: Uint8Array) => ({ keyId, publicKey, signature: sign(publicKey) });
    return {
      type: 'prekeys_upload' as const,
      id: 0,
      signedPreKey: signed(1, ecKey(1)),
      pqLastResortPreKey: signed(2, kemKey(2)),
      oneTimePreKeys: oneTimeIds.map((keyId) => ({ keyId, publicKey: ecKey(keyId) })),
      pqOneTimePreKeys: [20, 21].map((keyId) => signed(keyId, kemKey(keyId))),
      proof: sign(prekeysUploadSignedMessage(device.client.challenge, device.account, device.deviceId)),
    };
  };

  it('binds an upload to its connection: no proof, or a proof for another connection, is BAD_SIGNATURE', async () => {
    const device = await register(server.dial());
    const captured = upload(device);
    const { proof: _, ...withoutProof } = captured;
    expect(await device.client.request(withoutProof)).toMatchObject({ type: 'error', code: 'BAD_SIGNATURE' });
    // The same frame replayed on the device's next connection (another challenge).
    await reconnect(server.dial(), device);
    expect(await device.client.request(captured)).toMatchObject({ type: 'error', code: 'BAD_SIGNATURE' });
    await device.client.expect(upload(device), 'ok');
  });

  it('checks signatures on upload (BAD_SIGNATURE)', async () => {
    const device = await register(server.dial());
    const frame = upload(device);
    frame.pqOneTimePreKeys[1]!.signature = generateIdentityKeyPair().sign(frame.pqOneTimePreKeys[1]!.publicKey);
    expect(await device.client.request(frame)).toMatchObject({ type: 'error', code: 'BAD_SIGNATURE' });
  });

  it('hands each one-time prekey out once, then the last-resort key, and warns the owner', async () => {
    const owner = await register(server.dial());
    const fetcher = await register(server.dial());
    // A fresh device has no prekeys: it is told so right after authenticating.
    expect(await owner.client.next('prekeys_low')).toMatchObject({ oneTimePreKeys: 0, pqOneTimePreKeys: 0 });
    await owner.client.expect(upload(owner), 'ok');
    const taken: number[] = [];
    const pq: number[] = [];
    for (let i = 0; i < 4; i++) {
      const answer = await fetcher.client.expect({ type: 'bundle_fetch', id: 0, account: owner.account }, 'bundles');
      expect(answer.bundles).toHaveLength(1);
      const bundle = answer.bundles[0]!;
      if (bundle.oneTimePreKey) taken.push(bundle.oneTimePreKey.keyId);
      pq.push(bundle.pqPreKey.keyId);
      expect(bundle.pqPreKeyIsLastResort).toBe(bundle.pqPreKey.keyId === 2);
    }
    expect(taken).toEqual([10, 11, 12]);
    expect(pq).toEqual([20, 21, 2, 2]);
    // After the first fetch 2 one-time and 1 PQ key remain: below the threshold of 2.
    expect(await owner.client.next('prekeys_low')).toMatchObject({ oneTimePreKeys: 2, pqOneTimePreKeys: 1 });
    // Told again on the next connection, with what remains.
    await reconnect(server.dial(), owner);
    expect(await owner.client.next('prekeys_low')).toMatchObject({ oneTimePreKeys: 0, pqOneTimePreKeys: 0 });
  });

  it('refuses an upload beyond max_prekeys_per_device (FORBIDDEN), storing none of it; a re-upload replaces', async () => {
    const owner = await register(server.dial());
    const fetcher = await register(server.dial());
    await owner.client.expect(upload(owner, [1, 2, 3]), 'ok');
    // Ids 2 and 3 replace stored keys: 4 after the upload, at the cap.
    await owner.client.expect(upload(owner, [2, 3, 4]), 'ok');
    const over = await owner.client.request(upload(owner, [5]));
    expect(over).toMatchObject({
      type: 'error',
      code: 'FORBIDDEN',
      message: 'a device stores at most 4 one-time prekeys of each kind',
    });
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      const answer = await fetcher.client.expect({ type: 'bundle_fetch', id: 0, account: owner.account }, 'bundles');
      const key = answer.bundles[0]!.oneTimePreKey;
      if (key !== undefined) ids.push(key.keyId);
    }
    expect(ids).toEqual([1, 2, 3, 4]);
  });

  it('answers PREKEYS_EXHAUSTED for an account that uploaded no prekeys, NOT_FOUND for no account', async () => {
    const owner = await register(server.dial());
    const fetcher = await register(server.dial());
    const none = await fetcher.client.request({ type: 'bundle_fetch', id: 0, account: owner.account });
    expect(none).toMatchObject({ type: 'error', code: 'PREKEYS_EXHAUSTED' });
    const missing = await fetcher.client.request({ type: 'bundle_fetch', id: 0, account: 'nobody-here' });
    expect(missing).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
    // Once the owner uploads, the same fetch succeeds.
    await owner.client.expect(upload(owner), 'ok');
    await fetcher.client.expect({ type: 'bundle_fetch', id: 0, account: owner.account }, 'bundles');
  });

  it('rate-limits fetches per requester (RATE_LIMITED)', async () => {
    const owner = await register(server.dial());
    await owner.client.expect(upload(owner), 'ok');
    const fetcher = await register(server.dial());
    const answers = [];
    for (let i = 0; i < 7; i++) {
      answers.push(await fetcher.client.request({ type: 'bundle_fetch', id: 0, account: owner.account }));
    }
    expect(answers.slice(0, 5).every((a) => a.type === 'bundles')).toBe(true);
    expect(answers[6]).toMatchObject({ type: 'error', code: 'RATE_LIMITED' });
    expect((answers[6] as { retryAfterMs?: number }).retryAfterMs).toBeGreaterThan(0);
  });
});
