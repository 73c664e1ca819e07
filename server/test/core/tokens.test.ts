import { describe, expect, it } from 'vitest';
import { TokenIssuer } from '../../src/core/auth/tokens.ts';
import { hmacSha256 } from '../../src/edge/secret.ts';
import { fakeMac } from '../helpers/fake-ports.ts';

describe('access tokens', () => {
  const issuer = new TokenIssuer(hmacSha256(new Uint8Array(32).fill(1)));

  it('verifies its own unexpired tokens only', () => {
    const token = issuer.issue({ account: 'alice', deviceId: 3, expiresAt: 1000 });
    expect(issuer.verify(token, 999)).toEqual({ account: 'alice', deviceId: 3, expiresAt: 1000 });
    expect(issuer.verify(token, 1000)).toBeUndefined();
    const other = new TokenIssuer(hmacSha256(new Uint8Array(32).fill(2)));
    expect(other.verify(token, 0)).toBeUndefined();
    for (let i = 0; i < token.length; i++) {
      const tampered = token.slice();
      tampered[i]! ^= 0x01;
      expect(issuer.verify(tampered, 0)).toBeUndefined();
    }
    expect(issuer.verify(token.subarray(0, 20), 0)).toBeUndefined();
    expect(issuer.verify(new Uint8Array(0), 0)).toBeUndefined();
  });

  it('lays the token out as version, device, expiry, account, MAC (big-endian)', () => {
    const token = issuer.issue({ account: 'bö', deviceId: 0x01020304, expiresAt: 0x0102030405 });
    const hex = Buffer.from(token).toString('hex');
    expect(hex.slice(0, 28)).toBe(`01010203040000000102030405${'03'}`);
    expect(Buffer.from(token.subarray(14, 17)).toString('utf8')).toBe('bö');
    expect(token.length).toBe(14 + 3 + 32);
    // Same layout under any MAC the edge passes in; a token is bound to its MAC key.
    const fake = new TokenIssuer(fakeMac(9));
    const fakeToken = fake.issue({ account: 'bö', deviceId: 0x01020304, expiresAt: 0x0102030405 });
    expect(fakeToken.subarray(0, 17)).toEqual(token.subarray(0, 17));
    expect(issuer.verify(fakeToken, 0)).toBeUndefined();
    expect(fake.verify(fakeToken, 0)).toMatchObject({ account: 'bö', deviceId: 0x01020304 });
  });
});
