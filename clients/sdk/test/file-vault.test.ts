import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PulseError } from '../src/errors.ts';
import { FileVault } from '../src/store/file-vault.ts';

const FAST_SCRYPT = { N: 2 ** 10, r: 8, p: 1 };

describe('FileVault (the profile directory)', () => {
  it('seals the state: the passphrase opens it, a wrong one is told apart, nothing is readable on disk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulse-vault-'));
    const vault = await FileVault.open(dir, 'right', FAST_SCRYPT);
    await vault.save(new TextEncoder().encode('{"secret":"plaintext-marker"}'));
    await vault.close();
    expect(readFileSync(join(dir, 'state.enc')).includes('plaintext-marker')).toBe(false);

    await expect(FileVault.open(dir, 'wrong', FAST_SCRYPT)).rejects.toSatisfy((e) =>
      PulseError.is(e, 'WRONG_PASSPHRASE'),
    );
    const again = await FileVault.open(dir, 'right', FAST_SCRYPT);
    expect(new TextDecoder().decode(await again.load())).toBe('{"secret":"plaintext-marker"}');
    await again.close();
  });

  it('one process at a time; a corrupt header is reported as such', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulse-vault-'));
    const first = await FileVault.open(dir, 'pw', FAST_SCRYPT);
    await expect(FileVault.open(dir, 'pw', FAST_SCRYPT)).rejects.toThrow(/in use/);
    await first.close();
    writeFileSync(join(dir, 'profile.json'), '{"format":"something else"}');
    await expect(FileVault.open(dir, 'pw', FAST_SCRYPT)).rejects.toSatisfy((e) => PulseError.is(e, 'PROFILE_CORRUPT'));
  });
});
