import { describe, expect, it } from 'vitest';
import { TokenIssuer } from '../../src/core/auth/tokens.ts';
import { hmacKeyring, hmacSha256 } from '../../src/edge/secret.ts';
import { fakeMac } from '../helpers/fake-ports.ts';

const identity = new Uint8Array(33).fill(5);
const otherIdentity = new Uint8Array(33).fill(6);
const key = (id: number, fill: number) => ({ id, createdAt: 0, secret: new Uint8Array(32).fill(fill) });

describe('access tokens', () => {
  const issuer = new TokenIssuer(hmacSha256(new Uint8Array(32).fill(1)));
  const check = (token: Uint8Array, now: number, identityKey = identity, by = issuer) => {
    const presented = by.read(token, now);
    return presented !== undefined && by.verify(presented, identityKey) ? presented : undefined;
  };

  it('verifies its own unexpired tokens only', () => {
    const token = issuer.issue({ account: 'alice', deviceId: 3, expiresAt: 1000 }, identity);
    expect(check(token, 999)).toMatchObject({ account: 'alice', deviceId: 3, expiresAt: 1000, keyId: 0 });
    expect(check(token, 1000)).toBeUndefined();
    const other = new TokenIssuer(hmacSha256(new Uint8Array(32).fill(2)));
    expect(check(token, 0, identity, other)).toBeUndefined();
    for (let i = 0; i < token.length; i++) {
      const tampered = token.slice();
      tampered[i]! ^= 0x01;
      expect(check(tampered, 0)).toBeUndefined();
    }
    expect(check(token.subarray(0, 20), 0)).toBeUndefined();
    expect(check(new Uint8Array(0), 0)).toBeUndefined();
  });

  it('binds a token to the identity key of its device', () => {
    const token = issuer.issue({ account: 'alice', deviceId: 3, expiresAt: 1000 }, identity);
    // Same account name and device id, another key (the account was registered again): refused.
    expect(check(token, 0, otherIdentity)).toBeUndefined();
  });

  it('lays the token out as version, key id, device, expiry, account, MAC (big-endian)', () => {
    const token = issuer.issue({ account: 'bö', deviceId: 0x01020304, expiresAt: 0x0102030405 }, identity);
    const hex = Buffer.from(token).toString('hex');
    expect(hex.slice(0, 36)).toBe(`02${'00000000'}01020304${'0000000102030405'}03`);
    expect(Buffer.from(token.subarray(18, 21)).toString('utf8')).toBe('bö');
    expect(token.length).toBe(18 + 3 + 32);
    // Same layout under any MAC the edge passes in; a token is bound to its MAC key.
    const fake = new TokenIssuer(fakeMac(9));
    const fakeToken = fake.issue({ account: 'bö', deviceId: 0x01020304, expiresAt: 0x0102030405 }, identity);
    expect(fakeToken.subarray(0, 21)).toEqual(token.subarray(0, 21));
    expect(check(fakeToken, 0)).toBeUndefined();
    expect(check(fakeToken, 0, identity, fake)).toMatchObject({ account: 'bö', deviceId: 0x01020304 });
  });

  it('signs under the newest key and verifies under every key it keeps', () => {
    const before = new TokenIssuer(hmacKeyring([key(1, 1)]));
    const old = before.issue({ account: 'alice', deviceId: 1, expiresAt: 1000 }, identity);
    const rotated = new TokenIssuer(hmacKeyring([key(1, 1), key(2, 2)]));
    const fresh = rotated.issue({ account: 'alice', deviceId: 1, expiresAt: 1000 }, identity);
    expect(check(old, 0, identity, rotated)).toMatchObject({ keyId: 1 });
    expect(check(fresh, 0, identity, rotated)).toMatchObject({ keyId: 2 });
    // Once key 1 is dropped, its tokens are refused; a key id that never existed is refused too.
    const later = new TokenIssuer(hmacKeyring([key(2, 2)]));
    expect(check(old, 0, identity, later)).toBeUndefined();
    expect(check(fresh, 0, identity, later)).toMatchObject({ keyId: 2 });
    const relabelled = fresh.slice();
    relabelled[4] = 3;
    expect(check(relabelled, 0, identity, later)).toBeUndefined();
  });
});
