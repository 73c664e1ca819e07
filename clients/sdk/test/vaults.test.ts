import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BROWSERS, browserVaultSuites, vaultSuite } from '@pulse/testing';
import { vi } from 'vitest';
import { MemoryVault } from '../src/index.ts';
import { FileVault } from '../src/node.ts';

// Real browsers start here: generous when the machine is busy (the 2 cores are shared).
vi.setConfig({ hookTimeout: 120_000 });

/** Cheap scrypt for tests: the KDF's strength is not what these cases check. */
const FAST_SCRYPT = { N: 2 ** 10, r: 8, p: 1 };

vaultSuite('MemoryVault', async () => {
  const vault = new MemoryVault();
  return { open: async () => vault };
});

vaultSuite('FileVault', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'pulse-vault-'));
  return { open: () => FileVault.open(directory, 'correct horse', FAST_SCRYPT) };
});

browserVaultSuites(BROWSERS);
