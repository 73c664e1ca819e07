import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/edge/config/config.ts';
import { PulseNode } from '../../src/edge/node.ts';
import { hmacSha256, loadTokenKeys, rotateTokenKeys, TokenKeysError, tokenKeysPath } from '../../src/edge/secret.ts';

const root = mkdtempSync(join(tmpdir(), 'pulse-token-keys-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let files = 0;
const freshPath = () => join(root, `case-${++files}`, 'secrets', 'token-keys');
const DAY = 24 * 3600 * 1000;

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (error) {
    if (error instanceof TokenKeysError) return error.code;
    throw error;
  }
  return undefined;
};

describe('token keys', () => {
  it('keeps the keys in a file of their own, mode 0600, at the configured path, across restarts', () => {
    const path = freshPath();
    const first = loadTokenKeys(path, 1_000, DAY);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ id: 1, createdAt: 1_000 });
    expect(first[0]?.secret).toHaveLength(32);
    expect(loadTokenKeys(path, 2_000, DAY)).toEqual(first);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    // Outside the data directory when configured so; in it, a file of its own, when not.
    const config = loadConfig({ env: {}, overrides: { storage: { path: '/var/lib/pulse' } } });
    expect(tokenKeysPath(config)).toBe('/var/lib/pulse/token-keys');
    const elsewhere = loadConfig({ env: { PULSE_AUTH_TOKEN_KEYS: '/etc/pulse/token-keys' } });
    expect(tokenKeysPath(elsewhere)).toBe('/etc/pulse/token-keys');
  });

  it('stops the start on a damaged file instead of replacing it', () => {
    const path = freshPath();
    loadTokenKeys(path, 0, DAY);
    const good = readFileSync(path, 'utf8');
    const damaged = [
      '',
      'not json',
      '{"format":"pulse-token-keys/1","keys":[]}',
      good.replace(/"secret":"[^"]+"/, '"secret":"c2hvcnQ="'), // 5 bytes
      good.replace(/"id":1/, '"id":-1'),
      good.slice(0, good.length / 2),
    ];
    for (const text of damaged) {
      writeFileSync(path, text, { mode: 0o600 });
      expect(codeOf(() => loadTokenKeys(path, 0, DAY))).toBe('TOKEN_KEYS_CORRUPT');
      // Still damaged: nothing was written over it.
      expect(readFileSync(path, 'utf8')).toBe(text);
    }
    writeFileSync(path, good);
    chmodSync(path, 0o644);
    expect(codeOf(() => loadTokenKeys(path, 0, DAY))).toBe('TOKEN_KEYS_UNPROTECTED');
  });

  it('refuses to start a server on a damaged key file', () => {
    const dataDir = join(root, `case-${++files}`);
    const config = loadConfig({
      env: {},
      overrides: { storage: { path: dataDir }, transport: { webtransport: false } },
    });
    loadTokenKeys(tokenKeysPath(config), 0, DAY);
    writeFileSync(tokenKeysPath(config), '{"format":"pulse-token-keys/1","keys":[{"id":1}]}');
    expect(() => new PulseNode({ config, verify: () => true })).toThrow(TokenKeysError);
  });

  it('rotates: a new key signs, the old one is kept until its tokens expire, then dropped', () => {
    const path = freshPath();
    const [first] = loadTokenKeys(path, 0, DAY);
    const second = rotateTokenKeys(path, 10 * DAY, DAY);
    expect(second.id).toBe(2);
    const afterRotation = loadTokenKeys(path, 10 * DAY + 1, DAY);
    expect(afterRotation.map((key) => key.id)).toEqual([1, 2]);
    expect(afterRotation[0]?.secret).toEqual(first?.secret);
    // A token made under key 1 just before the rotation expires by 11 days: key 1 goes then.
    expect(loadTokenKeys(path, 11 * DAY - 1, DAY).map((key) => key.id)).toEqual([1, 2]);
    expect(loadTokenKeys(path, 11 * DAY, DAY).map((key) => key.id)).toEqual([2]);
    expect(loadTokenKeys(path, 11 * DAY + 5, DAY).map((key) => key.id)).toEqual([2]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('MACs with HMAC-SHA256 (a pinned vector) and refuses a key under 32 bytes', () => {
    const key = new Uint8Array(32).fill(0x0b);
    const mac = hmacSha256(key)(new TextEncoder().encode('Hi There'));
    expect(Buffer.from(mac).toString('hex')).toBe('198a607eb44bfbc69903a0f1cf2bbdc5ba0aa3f3d9ae3c1c7a3b1696a0b68cf7');
    expect(() => hmacSha256(new Uint8Array(31))).toThrow(RangeError);
  });
});
