import type { FrameOf } from '@pulse/proto';
import { describe, expect, it } from 'vitest';
import { key, outcome, startCore } from '../helpers/core-harness.ts';

/** A verifier that accepts everything and counts what it was asked: the CPU an upload costs, without timing. */
function countingVerifier() {
  const counter = {
    calls: 0,
    verify: () => {
      counter.calls++;
      return true;
    },
  };
  return counter;
}

const signature = new Uint8Array(64);
const kem = (n: number) => new Uint8Array(1569).fill(n);
const pq = (ids: number[], publicKey = kem) => ids.map((keyId) => ({ keyId, publicKey: publicKey(keyId), signature }));

/** An upload with the given PQ one-time keys, a signed and a last-resort key, and a proof. */
function upload(pqOneTimePreKeys: FrameOf<'prekeys_upload'>['pqOneTimePreKeys']): FrameOf<'prekeys_upload'> {
  return {
    type: 'prekeys_upload',
    id: 0,
    signedPreKey: { keyId: 1, publicKey: key(1), signature },
    pqLastResortPreKey: { keyId: 2, publicKey: kem(2), signature },
    pqOneTimePreKeys,
    proof: signature,
  };
}

/** Prekey uploads cost at most what the device's signature budget allows (issue 11, "Prekey uploads freeze the server"). */
describe('prekey upload cost', () => {
  it('checks key lengths before any signature: 1-byte keys cost no verification (PROTO_BAD_FIELD)', async () => {
    const verifier = countingVerifier();
    const { register } = startCore({ verify: verifier.verify });
    const alice = await register('alice');
    const before = verifier.calls;
    const tiny = await alice.request(upload(pq([3, 4, 5], () => new Uint8Array(1))));
    expect(outcome(tiny)).toBe('PROTO_BAD_FIELD');
    const ecTooLong = await alice.request({
      type: 'prekeys_upload',
      id: 0,
      oneTimePreKeys: [{ keyId: 1, publicKey: new Uint8Array(34) }],
      proof: signature,
    });
    expect(outcome(ecTooLong)).toBe('PROTO_BAD_FIELD');
    expect(verifier.calls).toBe(before);
  });

  it('refuses more keys than a device may store before verifying any (FORBIDDEN), counting what is stored', async () => {
    const verifier = countingVerifier();
    const { register, store } = startCore({ verify: verifier.verify, limits: { maxPrekeysPerDevice: 4 } });
    const alice = await register('alice');
    const before = verifier.calls;
    expect(outcome(await alice.request(upload(pq([10, 11, 12, 13, 14]))))).toBe('FORBIDDEN');
    expect(verifier.calls).toBe(before);
    // Three stored, two more would pass the per-frame cap but not the stored one.
    expect(outcome(await alice.request(upload(pq([10, 11, 12]))))).toBe('ok');
    const stored = verifier.calls;
    expect(stored - before).toBe(3 + 2 + 1);
    expect(outcome(await alice.request(upload(pq([20, 21]))))).toBe('FORBIDDEN');
    expect(verifier.calls).toBe(stored);
    expect((await store.oneTimePreKeyIds('alice', 1)).pq).toEqual([10, 11, 12]);
  });

  it('charges each signature to the device budget (prekey_signatures): a burst verifies no more than it allows', async () => {
    const verifier = countingVerifier();
    const { register, clock, metrics } = startCore({
      verify: verifier.verify,
      limits: { maxPrekeysPerDevice: 4, prekeySignatures: 10 },
    });
    const alice = await register('alice');
    const before = verifier.calls;
    const answers: string[] = [];
    // Each upload carries 7 signatures: 4 PQ keys, the signed and last-resort keys, the proof.
    for (let i = 0; i < 20; i++) answers.push(outcome(await alice.request(upload(pq([10, 11, 12, 13])))));
    expect(answers[0]).toBe('ok');
    expect(answers.slice(1).every((answer) => answer === 'RATE_LIMITED')).toBe(true);
    expect(verifier.calls - before).toBe(7);
    expect(metrics.count('limit:memory:prekey_signatures')).toBe(19);
    // The budget refills with time: 10 a minute.
    clock.time += 60_000;
    expect(outcome(await alice.request(upload(pq([10, 11, 12, 13]))))).toBe('ok');
    expect(verifier.calls - before).toBe(14);
  });
});
