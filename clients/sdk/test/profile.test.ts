import { describe, expect, it } from 'vitest';
import { PulseError } from '../src/errors.ts';
import { decodeProfile, encodeProfile, Profile } from '../src/profile.ts';
import { MemoryVault, type StateVault } from '../src/store/vault.ts';

describe('Profile', () => {
  it('round-trips state and engine bytes; refuses what is not a profile', async () => {
    const vault = new MemoryVault();
    const profile = await Profile.open(vault, 'phone');
    profile.attachEngine(async () => Uint8Array.of(1, 2, 3));
    profile.state.account = 'alice';
    await profile.save();
    const { state, engine } = decodeProfile((await vault.load())!);
    expect(state).toMatchObject({ account: 'alice', deviceName: 'phone' });
    expect(engine).toEqual(Uint8Array.of(1, 2, 3));
    expect((await Profile.open(vault, 'x')).engineState()).toEqual(Uint8Array.of(1, 2, 3));
    for (const bad of [
      new Uint8Array(),
      Uint8Array.of(0x50, 0x50, 0x01, 0, 0, 0, 99),
      encodeProfile({ ...state, version: 2 as 1 }, engine),
    ]) {
      await vault.save(bad);
      await expect(Profile.open(vault, 'x')).rejects.toSatisfy((e) => PulseError.is(e, 'PROFILE_CORRUPT'));
    }
  });

  it('coalesces saves, and every awaited save holds the changes made before it was requested', async () => {
    const writes: Uint8Array[] = [];
    const slow: StateVault = {
      load: async () => undefined,
      save: async (bytes: Uint8Array) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        writes.push(bytes);
      },
      close: async () => {},
    };
    const profile = await Profile.open(slow, 'd');
    profile.attachEngine(async () => new Uint8Array());
    const saves: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      profile.state.seenMessages.push(`m${i}`);
      const expected = i + 1;
      saves.push(
        profile.save().then(() => {
          const last = decodeProfile(writes.at(-1)!).state;
          expect(last.seenMessages.length).toBeGreaterThanOrEqual(expected);
        }),
      );
    }
    await Promise.all(saves);
    expect(writes.length).toBeLessThan(20);
    expect(decodeProfile(writes.at(-1)!).state.seenMessages).toHaveLength(20);
  });
});
