/**
 * The engine's stored forms: states written before (fixtures/engine-states.json, v1 and v2,
 * made by earlier code with message version 1) load and keep their sessions; what was in
 * flight then is refused by version; they are written back as v3. And the identity check.
 */

import { PqPreKey, SignedPreKey } from '@pulse/crypto';
import { describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from '../base64.ts';
import { CryptoEngine } from './crypto-engine.ts';
import type { DeviceAddress, DeviceBundle, E2EEngine, IsTrustedIdentity } from './engine.ts';
import engineStates from './fixtures/engine-states.json' with { type: 'json' };

interface Sent {
  base64: string;
  text: string;
}

interface Fixture {
  alice: DeviceAddress;
  bob: DeviceAddress;
  carol: DeviceAddress;
  group: string;
  bobState: { baseKeys: string[] } & Record<string, unknown>;
  aliceStateV1: Record<string, unknown>;
  sent: Record<'toBob' | 'toGroup' | 'toAlice' | 'carolInitial', Sent>;
}

const fixture = engineStates as Fixture;
const { alice: A, bob: B, carol: C } = fixture;
const D: DeviceAddress = { account: 'dave', deviceId: 1 };
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const restore = (state: object) => CryptoEngine.factory().restore(encoder.encode(JSON.stringify(state)));
interface ExportedState extends Record<string, unknown> {
  v: number;
  baseKeys?: string[];
  usedPreKeys?: string[];
}
const exported = async (engine: E2EEngine) => JSON.parse(decoder.decode(await engine.exportState())) as ExportedState;

describe('CryptoEngine stored state', () => {
  it('reads a v2 state written before; refuses its in-flight v1 (AES-GCM) messages by version; goes on with v2', async () => {
    const bob = await restore(fixture.bobState);
    const alice = await restore(fixture.aliceStateV1);
    // Messages encrypted before the upgrade (message version 1) are refused, and change nothing.
    await expect(bob.decrypt(A, fromBase64(fixture.sent.toBob.base64))).rejects.toMatchObject({
      code: 'CRYPTO_UNSUPPORTED_VERSION',
    });
    await expect(bob.groupDecrypt(A, fixture.group, fromBase64(fixture.sent.toGroup.base64))).rejects.toMatchObject({
      code: 'CRYPTO_UNSUPPORTED_VERSION',
    });
    // The stored sessions and sender keys themselves carry over: new messages flow both ways.
    const next = await alice.encrypt(B, encoder.encode('after the upgrade'));
    expect(decoder.decode((await bob.decrypt(A, next)).plaintext)).toBe('after the upgrade');
    const back = await bob.encrypt(A, encoder.encode('and back'));
    expect(decoder.decode((await alice.decrypt(B, back)).plaintext)).toBe('and back');
    const group = await alice.groupEncrypt(fixture.group, encoder.encode('to the group'));
    expect(decoder.decode(await bob.groupDecrypt(A, fixture.group, group))).toBe('to the group');
    // Written back as v3, which loads again unchanged.
    const v3 = await exported(bob);
    expect(v3.v).toBe(3);
    expect(v3.baseKeys).toBeUndefined();
    expect(await exported(await restore(v3))).toEqual(v3);
  });

  it('base keys saved by a v2 state still refuse a replayed initial message, tied to the newest signed prekey', async () => {
    // A new (v2) initial message to bob using only his reusable prekeys…
    const bob = await restore(fixture.bobState);
    const dave = await CryptoEngine.factory().create();
    await dave.startSession(B, await lastResortBundle(bob));
    const initial = await dave.encrypt(B, encoder.encode('hello'));
    // …whose base key (after version, type and identity key: bytes 35..67) a v2 state had already saved.
    const baseKey = toBase64(initial.subarray(35, 67));
    const saved = await restore({ ...fixture.bobState, baseKeys: [...fixture.bobState.baseKeys, baseKey] });
    await expect(saved.decrypt(D, initial)).rejects.toMatchObject({ code: 'CRYPTO_DUPLICATE_MESSAGE' });
    const v3 = await exported(saved);
    expect(v3.usedPreKeys).toHaveLength(fixture.bobState.baseKeys.length + 1);
    // Without it, the same bytes build a session.
    expect(decoder.decode((await bob.decrypt(D, initial)).plaintext)).toBe('hello');
  });

  it('replay records live as long as the prekeys they name: no count limit, forgotten on rotation', async () => {
    const factory = CryptoEngine.factory();
    const bob = await factory.create();
    await bob.generatePreKeys(1, true);
    const senders = [];
    for (let i = 0; i < 3; i++) senders.push(await factory.create());
    // Each initiates with only the signed and last-resort keys: replayable, so recorded.
    const bundle = await lastResortBundle(bob);
    for (const [i, sender] of senders.entries()) {
      const from = { account: `s${i}`, deviceId: 1 };
      await sender.startSession(B, bundle);
      const initial = await sender.encrypt(B, encoder.encode(`hi ${i}`));
      expect(decoder.decode((await bob.decrypt(from, initial)).plaintext)).toBe(`hi ${i}`);
      bob.dropSession(from);
      await expect(bob.decrypt(from, initial)).rejects.toMatchObject({ code: 'CRYPTO_DUPLICATE_MESSAGE' });
    }
    expect((await exported(bob)).usedPreKeys).toHaveLength(3);
    // Three rotations later the signed and last-resort keys those messages used are gone, and their records with them.
    for (let i = 0; i < 3; i++) await bob.generatePreKeys(0, true);
    expect((await exported(bob)).usedPreKeys).toHaveLength(0);
  });

  it('reads a v1 state (one session per device) and continues that session both ways', async () => {
    const alice = await restore(fixture.aliceStateV1);
    const bob = await restore(fixture.bobState);
    expect(alice.hasSession(B)).toBe(true);
    expect(alice.sessionIdentity(B)).toEqual(bob.identityKey);
    const next = await alice.encrypt(B, encoder.encode('after the upgrade'));
    expect(decoder.decode((await bob.decrypt(A, next)).plaintext)).toBe('after the upgrade');
    const fromBob = await alice.decrypt(B, await bob.encrypt(A, encoder.encode('reply')));
    expect(decoder.decode(fromBob.plaintext)).toBe('reply');
    expect(fromBob.identityKey).toEqual(bob.identityKey);
    expect(((await exported(alice)) as { v?: number }).v).toBe(3);
  });
});

describe('CryptoEngine identity trust (isTrustedIdentity)', () => {
  it('is asked with the device address before a session is built or replaced; a refusal changes nothing', async () => {
    const asked: Array<[string, string]> = [];
    let trustNewKeys = false;
    const known = new Map<string, string>();
    const check: IsTrustedIdentity = (address, key, direction) => {
      const id = `${address.account}.${address.deviceId}`;
      asked.push([id, direction]);
      const previous = known.get(id);
      return previous === undefined || previous === toBase64(key) || trustNewKeys;
    };
    const factory = CryptoEngine.factory();
    const bob = await factory.create({ isTrustedIdentity: check });
    await bob.generatePreKeys(2, true);
    const alice = await factory.create();
    await alice.startSession(B, await lastResortBundle(bob));
    const first = await bob.decrypt(A, await alice.encrypt(B, encoder.encode('first')));
    known.set('alice.1', toBase64(first.identityKey));
    expect(asked).toEqual([['alice.1', 'receiving']]);

    // Alice's device comes back with a new identity (re-registered, or an impostor the server routes as her).
    const newAlice = await factory.create();
    await newAlice.startSession(B, await lastResortBundle(bob));
    const initial = await newAlice.encrypt(B, encoder.encode('new me'));
    const before = await bob.exportState();
    await expect(bob.decrypt(A, initial)).rejects.toMatchObject({ code: 'CRYPTO_UNTRUSTED_IDENTITY' });
    expect(await bob.exportState()).toEqual(before);
    expect(bob.sessionIdentity(A)).toEqual(alice.identityKey);
    // The old session still works; once the user accepts, the same message is read.
    expect(decoder.decode((await bob.decrypt(A, await alice.encrypt(B, encoder.encode('old')))).plaintext)).toBe('old');
    trustNewKeys = true;
    expect(decoder.decode((await bob.decrypt(A, initial)).plaintext)).toBe('new me');
    expect(bob.sessionIdentity(A)).toEqual(newAlice.identityKey);

    // Sending: a refused bundle builds nothing; setIdentityTrust replaces the check.
    bob.setIdentityTrust(() => false);
    const carol = await factory.create();
    await carol.generatePreKeys(1, true);
    await expect(bob.startSession(C, await lastResortBundle(carol))).rejects.toMatchObject({
      code: 'CRYPTO_UNTRUSTED_IDENTITY',
    });
    expect(bob.hasSession(C)).toBe(false);
    bob.setIdentityTrust(undefined);
    await bob.startSession(C, await lastResortBundle(carol));
    expect(bob.hasSession(C)).toBe(true);
  });
});

/** A bundle with the device's signed and newest last-resort PQ prekey, read from its exported state. */
async function lastResortBundle(engine: E2EEngine): Promise<DeviceBundle> {
  const state = JSON.parse(decoder.decode(await engine.exportState())) as { signed: string[]; pq: string[] };
  const signed = SignedPreKey.deserialize(fromBase64(state.signed.at(-1)!)).toPublic();
  const lastResort = state.pq.map((s) => PqPreKey.deserialize(fromBase64(s))).filter((k) => k.lastResort);
  return {
    deviceId: 0,
    identityKey: engine.identityKey,
    signedPreKey: signed,
    pqPreKey: lastResort.at(-1)!.toPublic(),
  } as DeviceBundle;
}
