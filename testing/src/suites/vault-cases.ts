import type { StateVault } from '@pulse/sdk';

/**
 * The StateVault contract (clients/sdk/src/store/vault.ts), as cases every vault
 * runs: the file vault in Node, IndexedDB in real browsers, memory. A case runs
 * where the vault lives and returns what it saw as plain data; `verify` judges
 * that in the test runner. This file imports nothing at run time, so it bundles
 * for a browser page as it is.
 */

/** One place a vault keeps its state; each `open` is a new vault object over it (a reload, a restart). */
export interface VaultStorage {
  open(): Promise<StateVault>;
}

/** The runner's `expect`, as much of it as the cases use. */
export type Verdict = (
  actual: unknown,
  message?: string,
) => {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
};

export interface VaultCase<Observed> {
  readonly name: string;
  run(storage: VaultStorage): Promise<Observed>;
  verify(observed: Observed, expect: Verdict): void;
}

/** `length` bytes that differ with `seed` and cover every byte value. */
export function pattern(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 131 + seed * 17 + (i >> 8)) & 0xff;
  return bytes;
}

/** Bytes as hex (null for undefined): plain data that survives any page boundary and compares exactly. */
export function hex(bytes: Uint8Array | undefined): string | null {
  if (bytes === undefined) return null;
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

const LARGE = 256 * 1024;

/** What a new vault object over `storage` loads (a reload, a restart), closed again. */
async function loadReopened(storage: VaultStorage): Promise<Uint8Array | undefined> {
  const reopened = await storage.open();
  const loaded = await reopened.load();
  await reopened.close();
  return loaded;
}

function vaultCase<Observed>(spec: VaultCase<Observed>): VaultCase<unknown> {
  return spec as VaultCase<unknown>;
}

export const VAULT_CASES: readonly VaultCase<unknown>[] = [
  vaultCase({
    name: 'a fresh vault holds nothing',
    async run(storage) {
      const vault = await storage.open();
      const loaded = hex(await vault.load());
      await vault.close();
      return { loaded };
    },
    verify: (observed, expect) => expect(observed.loaded).toBe(null),
  }),
  vaultCase({
    name: 'what is saved loads back byte for byte, in the same vault and after reopening',
    async run(storage) {
      const vault = await storage.open();
      await vault.save(pattern(1000, 1));
      const same = hex(await vault.load());
      await vault.close();
      const after = hex(await loadReopened(storage));
      return { same, after };
    },
    verify(observed, expect) {
      expect(observed.same).toBe(hex(pattern(1000, 1)));
      expect(observed.after).toBe(hex(pattern(1000, 1)));
    },
  }),
  vaultCase({
    name: 'a save replaces the whole state: a shorter one leaves nothing of the longer',
    async run(storage) {
      const vault = await storage.open();
      await vault.save(pattern(5000, 2));
      await vault.save(pattern(10, 3));
      await vault.close();
      const loaded = hex(await loadReopened(storage));
      return { loaded };
    },
    verify: (observed, expect) => expect(observed.loaded).toBe(hex(pattern(10, 3))),
  }),
  vaultCase({
    name: 'the last of many saves is what a reopened vault loads',
    async run(storage) {
      const vault = await storage.open();
      for (let seed = 0; seed < 10; seed++) await vault.save(pattern(100 + seed, seed));
      await vault.close();
      const loaded = hex(await loadReopened(storage));
      return { loaded };
    },
    verify: (observed, expect) => expect(observed.loaded).toBe(hex(pattern(109, 9))),
  }),
  vaultCase({
    name: 'stored bytes are the vault’s own: changing what was saved or loaded changes nothing stored',
    async run(storage) {
      const vault = await storage.open();
      const saved = pattern(64, 4);
      await vault.save(saved);
      saved.fill(0);
      const loaded = (await vault.load()) ?? new Uint8Array();
      const first = hex(loaded);
      loaded.fill(0xff);
      const second = hex(await vault.load());
      await vault.close();
      return { first, second };
    },
    verify(observed, expect) {
      expect(observed.first).toBe(hex(pattern(64, 4)));
      expect(observed.second).toBe(hex(pattern(64, 4)));
    },
  }),
  vaultCase({
    name: 'an empty state and a large one both round-trip',
    async run(storage) {
      const vault = await storage.open();
      await vault.save(new Uint8Array());
      const empty = hex(await vault.load());
      await vault.save(pattern(LARGE, 5));
      await vault.close();
      const large = await loadReopened(storage);
      return { empty, largeLength: large?.length ?? -1, large: hex(large) };
    },
    verify(observed, expect) {
      expect(observed.empty).toBe('');
      expect(observed.largeLength).toBe(LARGE);
      expect(observed.large === hex(pattern(LARGE, 5)), 'the large state round-trips').toBe(true);
    },
  }),
];

/** Runs every case, each on fresh storage; a case that throws is reported with its message. */
export async function runVaultCases(
  fresh: () => Promise<VaultStorage>,
): Promise<Record<string, { observed: unknown } | { error: string }>> {
  const results: Record<string, { observed: unknown } | { error: string }> = {};
  for (const vaultCase of VAULT_CASES) {
    try {
      results[vaultCase.name] = { observed: await vaultCase.run(await fresh()) };
    } catch (error) {
      results[vaultCase.name] = { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
    }
  }
  return results;
}
