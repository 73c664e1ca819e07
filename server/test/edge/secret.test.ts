import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hmacSha256, loadOrCreateSecret } from '../../src/edge/secret.ts';

describe('server secret', () => {
  it('keeps the secret in the data directory, private, across restarts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulse-secret-'));
    try {
      const first = loadOrCreateSecret(dir);
      expect(loadOrCreateSecret(dir)).toEqual(first);
      expect(statSync(join(dir, 'server-secret')).mode & 0o777).toBe(0o600);
      // A truncated secret is replaced by a fresh one.
      writeFileSync(join(dir, 'server-secret'), new Uint8Array(8));
      expect(loadOrCreateSecret(dir)).toHaveLength(32);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('MACs with HMAC-SHA256 (a pinned vector) and refuses a key under 32 bytes', () => {
    const key = new Uint8Array(32).fill(0x0b);
    const mac = hmacSha256(key)(new TextEncoder().encode('Hi There'));
    expect(Buffer.from(mac).toString('hex')).toBe('198a607eb44bfbc69903a0f1cf2bbdc5ba0aa3f3d9ae3c1c7a3b1696a0b68cf7');
    expect(() => hmacSha256(new Uint8Array(31))).toThrow(RangeError);
  });
});
