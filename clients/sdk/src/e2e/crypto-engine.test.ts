/**
 * The engine's stored form stays what it was: states written before its prekey store moved
 * to @pulse/crypto (fixtures/engine-states.json, made by that code) load, keep working, and
 * are written back unchanged.
 */
import { describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from '../base64.ts';
import { CryptoEngine } from './crypto-engine.ts';
import type { DeviceAddress, E2EEngine } from './engine.ts';
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
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const restore = (state: object) => CryptoEngine.factory().restore(encoder.encode(JSON.stringify(state)));
const exported = async (engine: E2EEngine) =>
  JSON.parse(decoder.decode(await engine.exportState())) as Fixture['bobState'];
const received = async (engine: E2EEngine, from: DeviceAddress, sent: Sent) =>
  decoder.decode((await engine.decrypt(from, fromBase64(sent.base64))).plaintext);

describe('CryptoEngine stored state', () => {
  it('reads a v2 state written before, writes it back unchanged, and goes on decrypting', async () => {
    const bob = await restore(fixture.bobState);
    expect(await exported(bob)).toEqual(fixture.bobState);
    expect(await received(bob, A, fixture.sent.toBob)).toBe(fixture.sent.toBob.text);
    const group = await bob.groupDecrypt(A, fixture.group, fromBase64(fixture.sent.toGroup.base64));
    expect(decoder.decode(group)).toBe(fixture.sent.toGroup.text);
  });

  it('refuses a replayed initial message by the base keys it saved, even once the session is gone', async () => {
    const bob = await restore(fixture.bobState);
    bob.dropSession(C);
    await expect(bob.decrypt(C, fromBase64(fixture.sent.carolInitial.base64))).rejects.toMatchObject({
      code: 'CRYPTO_DUPLICATE_MESSAGE',
    });
    // Without the saved base keys the same bytes would build a session again (carol used only reusable prekeys).
    const forgetful = await restore({ ...fixture.bobState, baseKeys: [] });
    forgetful.dropSession(C);
    expect(await received(forgetful, C, fixture.sent.carolInitial)).toBe(fixture.sent.carolInitial.text);
    expect((await exported(forgetful)).baseKeys).toHaveLength(1);
  });

  it('remembers at most 2,000 base keys, forgetting the oldest first', async () => {
    const fillers = Array.from({ length: 2_000 }, (_, i) =>
      toBase64(new Uint8Array(32).fill(i % 256).fill(i >> 8, 0, 1)),
    );
    const bob = await restore({ ...fixture.bobState, baseKeys: fillers });
    bob.dropSession(C);
    expect(await received(bob, C, fixture.sent.carolInitial)).toBe(fixture.sent.carolInitial.text);
    const { baseKeys } = await exported(bob);
    expect(baseKeys).toHaveLength(2_000);
    expect(baseKeys[0]).toBe(fillers[1]);
    expect(baseKeys.slice(0, -1)).toEqual(fillers.slice(1));
    expect(fixture.bobState.baseKeys).toContain(baseKeys.at(-1));
  });

  it('reads a v1 state (one session per device) and continues that session both ways', async () => {
    const alice = await restore(fixture.aliceStateV1);
    const bob = await restore(fixture.bobState);
    expect(alice.hasSession(B)).toBe(true);
    expect(alice.sessionIdentity(B)).toEqual(bob.identityKey);
    const fromBob = await alice.decrypt(B, fromBase64(fixture.sent.toAlice.base64));
    expect(decoder.decode(fromBob.plaintext)).toBe(fixture.sent.toAlice.text);
    expect(fromBob.identityKey).toEqual(bob.identityKey);
    const next = await alice.encrypt(B, encoder.encode('after the upgrade'));
    expect(decoder.decode((await bob.decrypt(A, next)).plaintext)).toBe('after the upgrade');
    expect(((await exported(alice)) as { v?: number }).v).toBe(2);
  });
});
