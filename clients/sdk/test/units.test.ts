import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../src/backoff.ts';
import { fromBase64, toBase64 } from '../src/base64.ts';
import {
  type Content,
  decodeContent,
  encodeContent,
  groupPayload,
  parsePayload,
  sessionPayload,
} from '../src/content.ts';
import { PulseError } from '../src/errors.ts';
import { clientLimits, DEFAULT_CLIENT_LIMITS } from '../src/limits.ts';
import { decodeProfile, encodeProfile, Profile } from '../src/profile.ts';
import { parseServerInfo, type ServerInfo } from '../src/server-info.ts';
import { FileVault } from '../src/store/file-vault.ts';
import { MemoryVault, type StateVault } from '../src/store/vault.ts';
import { transportOrder } from '../src/transport/negotiate.ts';

const FAST_SCRYPT = { N: 2 ** 10, r: 8, p: 1 };
const limits = DEFAULT_CLIENT_LIMITS;

describe('backoffDelay', () => {
  it('stays within [0, min(max, base * 2^attempt)) for any attempt and random value', () => {
    fc.assert(
      fc.property(fc.nat(100), fc.double({ min: 0, max: 0.999999, noNaN: true }), (attempt, r) => {
        const delay = backoffDelay(attempt, 250, 15_000, () => r);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(Math.min(15_000, 250 * 2 ** attempt));
      }),
    );
  });

  it('grows with the attempt number', () => {
    expect(backoffDelay(0, 250, 15_000, () => 0.999)).toBe(249);
    expect(backoffDelay(3, 250, 15_000, () => 0.999)).toBe(1998);
    expect(backoffDelay(20, 250, 15_000, () => 0.999)).toBe(14_985);
  });
});

describe('base64', () => {
  it('matches the platform encoding for every length and content', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        expect(toBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
        expect(fromBase64(toBase64(bytes))).toEqual(bytes);
      }),
    );
    const large = new Uint8Array(100_000).map((_, i) => (i * 7919) & 0xff);
    expect(toBase64(large)).toBe(Buffer.from(large).toString('base64'));
  });
});

describe('clientLimits', () => {
  it('applies overrides and refuses nonsense', () => {
    expect(clientLimits({ requestTimeoutMs: 5 }).requestTimeoutMs).toBe(5);
    expect(() => clientLimits({ requestTimeoutMs: 0 })).toThrow(RangeError);
    expect(() => clientLimits({ maxTextLength: 1.5 })).toThrow(RangeError);
  });
});

describe('parseServerInfo', () => {
  const hash = Buffer.alloc(32, 7).toString('base64');
  const info = {
    protocolVersions: [1],
    websocket: { url: 'ws://127.0.0.1:8080/pulse/ws' },
    webtransport: {
      url: 'https://127.0.0.1:8443/pulse/wt',
      serverCertificateHashes: [{ algorithm: 'sha-256', value: hash }],
    },
  };

  it('reads what the server publishes', () => {
    const parsed = parseServerInfo(info, 'http://127.0.0.1:8080');
    expect(parsed.versions).toEqual([1]);
    expect(parsed.webSocket?.url).toBe('ws://127.0.0.1:8080/pulse/ws');
    expect(parsed.webTransport?.url).toBe('https://127.0.0.1:8443/pulse/wt');
    expect(parsed.webTransport?.certificateHashes).toEqual([new Uint8Array(32).fill(7)]);
  });

  it('drops bad hashes, accepts a missing transport, refuses what is not a Pulse server', () => {
    const badHash = {
      ...info,
      webtransport: { ...info.webtransport, serverCertificateHashes: [{ algorithm: 'md5', value: hash }] },
    };
    expect(parseServerInfo(badHash, 'http://x').webTransport?.certificateHashes).toEqual([]);
    expect(parseServerInfo({ ...info, webtransport: null }, 'http://x').webTransport).toBeUndefined();
    for (const bad of [null, [], 'x', {}, { protocolVersions: [] }, { protocolVersions: [1] }]) {
      expect(() => parseServerInfo(bad, 'http://x')).toThrow(PulseError);
    }
  });

  it('never throws anything but a PulseError on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        try {
          parseServerInfo(value, 'http://127.0.0.1:8080');
        } catch (error) {
          expect(PulseError.is(error, 'BAD_SERVER_INFO')).toBe(true);
        }
      }),
    );
  });
});

describe('transportOrder', () => {
  const both: ServerInfo = {
    versions: [1],
    webTransport: { url: 'https://h/pulse/wt', certificateHashes: [] },
    webSocket: { url: 'ws://h/pulse/ws' },
  };
  const factories = { webSocket: () => ({}) as never, webTransport: () => ({}) as never };

  it('tries WebTransport first, then WebSocket', () => {
    expect(transportOrder('auto', both, factories, undefined, 0, limits)).toEqual(['webtransport', 'websocket']);
  });
  it('goes straight to WebSocket after a recent fallback, and tries WebTransport again later', () => {
    const remembered = { kind: 'websocket' as const, at: 1_000 };
    expect(transportOrder('auto', both, factories, remembered, 2_000, limits)).toEqual(['websocket']);
    const later = 1_000 + limits.transportMemoryMs + 1;
    expect(transportOrder('auto', both, factories, remembered, later, limits)).toEqual(['webtransport', 'websocket']);
  });
  it('honours an explicit choice and what the runtime lacks', () => {
    expect(transportOrder('websocket', both, factories, undefined, 0, limits)).toEqual(['websocket']);
    expect(transportOrder('auto', both, { webSocket: factories.webSocket }, undefined, 0, limits)).toEqual([
      'websocket',
    ]);
    expect(
      transportOrder('webtransport', { ...both, webTransport: undefined }, factories, undefined, 0, limits),
    ).toEqual([]);
  });
});

describe('message content', () => {
  it('round-trips every kind', () => {
    const samples: Content[] = [
      { t: 'text', id: 'abc', text: 'hi', sentAt: 1 },
      { t: 'text', id: 'abc', text: 'hi', sentAt: 1, group: 'g1', to: 'bob' },
      { t: 'receipt', ids: ['a', 'b'] },
      { t: 'typing', typing: true },
      { t: 'group', group: 'g1', name: 'team', members: ['alice', 'bob'], removed: [], senderKey: 'AAAA' },
      { t: 'sender_key', group: 'g1', distribution: 'AAAA' },
    ];
    for (const sample of samples) expect(decodeContent(encodeContent(sample), limits)).toEqual(sample);
  });

  it('pads to 160-byte blocks, so lengths leak only a size class', () => {
    const short = encodeContent({ t: 'text', id: 'a', text: 'hi', sentAt: 1 });
    const longer = encodeContent({ t: 'text', id: 'a', text: 'hi there, a little longer', sentAt: 1 });
    expect(short.length).toBe(160);
    expect(longer.length).toBe(160);
    expect(encodeContent({ t: 'text', id: 'a', text: 'x'.repeat(200), sentAt: 1 }).length).toBe(320);
    expect(() => decodeContent(new TextEncoder().encode('{"t":"typing","typing":true}'), limits)).toThrow(PulseError);
  });

  it('refuses hostile plaintext with BAD_INPUT, never anything else', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array(),
          fc.jsonValue().map((v) => new Uint8Array([...new TextEncoder().encode(JSON.stringify(v)), 0x80])),
        ),
        (bytes) => {
          try {
            decodeContent(bytes, limits);
          } catch (error) {
            expect(PulseError.is(error, 'BAD_INPUT')).toBe(true);
          }
        },
      ),
    );
    const long = encodeContent({ t: 'text', id: 'x', text: 'a'.repeat(limits.maxTextLength + 1), sentAt: 1 });
    expect(long.length % 160).toBe(0);
    expect(() => decodeContent(long, limits)).toThrow(PulseError);
  });

  it('payload framing round-trips and refuses unknown kinds', () => {
    const ct = new Uint8Array([1, 2, 3]);
    expect(parsePayload(sessionPayload(ct))).toEqual({ kind: 'session', ciphertext: ct });
    expect(parsePayload(groupPayload('g1', ct))).toEqual({ kind: 'group', groupId: 'g1', ciphertext: ct });
    for (const bad of [new Uint8Array(), Uint8Array.of(9, 1, 2), Uint8Array.of(2, 50, 1), Uint8Array.of(1)]) {
      expect(() => parsePayload(bad)).toThrow(PulseError);
    }
  });
});

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
