import { IdentityKeyPair } from '@pulse/crypto';
import { describe, expect, it } from 'vitest';
import { PulseError } from '../src/errors.ts';
import { approvalMac, approvalMacMatches, newLinkCode, requestMac, requestMacMatches } from '../src/link-code.ts';
import { decodeProvisioning, encodeProvisioning } from '../src/provisioning.ts';

const identityKey = IdentityKeyPair.generate().publicKey;

describe('the link code', () => {
  it('is fresh each time, in its display form', () => {
    const codes = new Set(Array.from({ length: 20 }, newLinkCode));
    expect(codes.size).toBe(20);
    for (const code of codes) expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/);
  });

  it('request MAC matches the code as typed (any case, no dash), and nothing else: another code, account, name or key', async () => {
    const code = newLinkCode();
    const mac = await requestMac(code, 'bob', 'phone', identityKey);
    const request = { account: 'bob', deviceName: 'phone', identityKey, mac };
    expect(await requestMacMatches(code.toLowerCase().replace('-', ''), request)).toBe(true);
    let other = newLinkCode();
    while (other === code) other = newLinkCode();
    expect(await requestMacMatches(other, request)).toBe(false);
    expect(await requestMacMatches(code, { ...request, account: 'bobb' })).toBe(false);
    expect(await requestMacMatches(code, { ...request, deviceName: 'server' })).toBe(false);
    expect(await requestMacMatches(code, { ...request, identityKey: IdentityKeyPair.generate().publicKey })).toBe(
      false,
    );
  });

  it('approval MAC binds the account identity key', async () => {
    const code = newLinkCode();
    const mac = await approvalMac(code, 'bob', identityKey);
    expect(await approvalMacMatches(code, 'bob', identityKey, mac)).toBe(true);
    expect(await approvalMacMatches(code, 'bob', IdentityKeyPair.generate().publicKey, mac)).toBe(false);
  });

  it('refuses what is not a code with BAD_INPUT', async () => {
    await expect(requestMac('12345', 'bob', 'x', identityKey)).rejects.toSatisfy((e) => PulseError.is(e, 'BAD_INPUT'));
  });
});

describe('the provisioning message', () => {
  it('round-trips, and anything else is refused with BAD_INPUT', () => {
    const provisioning = {
      account: 'bob',
      deviceId: 3,
      accountIdentity: 'AAAA',
      deviceList: {
        version: 2,
        devices: [{ deviceId: 3, identityKey: 'BQ==', name: 'x', addedAt: 1 }],
        signature: 'AA==',
      },
      approval: 'AA==',
      contacts: {},
      groups: {},
    };
    expect(decodeProvisioning(encodeProvisioning(provisioning))).toEqual(provisioning);
    const text = new TextEncoder();
    for (const bad of ['{', '{"t":"text"}', JSON.stringify({ ...provisioning, t: 'provision', v: 1, deviceId: 0 })]) {
      expect(() => decodeProvisioning(text.encode(bad))).toThrow(PulseError);
    }
  });
});
