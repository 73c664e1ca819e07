import { IdentityKeyPair } from '@pulse/crypto';
import type { DeviceListEntry } from '@pulse/proto';
import { describe, expect, it } from 'vitest';
import { signDeviceList } from '../src/device-lists.ts';
import { PulseError } from '../src/errors.ts';
import type { ContactRecord } from '../src/profile.ts';
import { TrustBook } from '../src/trust.ts';

const device = (deviceId: number): DeviceListEntry => ({
  deviceId,
  identityKey: IdentityKeyPair.generate().publicKey,
  name: `d${deviceId}`,
  addedAt: deviceId,
});

function book() {
  const contacts: Record<string, ContactRecord> = {};
  const events: string[] = [];
  const trust = new TrustBook(contacts, {
    identityChanged: (account) => events.push(`changed ${account}`),
    deviceAdded: (account, d) => events.push(`added ${account}.${d.deviceId}`),
    deviceRemoved: (account, d) => events.push(`removed ${account}.${d.deviceId}`),
    listRefused: (account, error) => events.push(`refused ${account} ${error.code}`),
  });
  return { trust, contacts, events };
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return PulseError.is(error) ? error.code : String(error);
  }
  return undefined;
}

describe('TrustBook', () => {
  const bob = IdentityKeyPair.generate();
  const [one, two] = [device(1), device(2)];

  it('pins the account key on first use and lists its devices', () => {
    const { trust, events } = book();
    expect(trust.present('bob', bob.publicKey, signDeviceList('bob', 1, [one], bob))).toEqual({
      devices: [1],
      stale: [],
    });
    expect(trust.isListed('bob', 1, one.identityKey)).toBe(true);
    expect(trust.isListed('bob', 1, two.identityKey)).toBe(false);
    expect(trust.isListed('bob', 2, two.identityKey)).toBe(false);
    expect(events).toEqual([]);
  });

  it('tells about a device added or removed by a newer signed list', () => {
    const { trust, events } = book();
    trust.present('bob', bob.publicKey, signDeviceList('bob', 1, [one], bob));
    trust.present('bob', bob.publicKey, signDeviceList('bob', 2, [one, two], bob));
    const after = trust.present('bob', bob.publicKey, signDeviceList('bob', 3, [two], bob));
    expect(after).toEqual({ devices: [2], stale: [1] });
    expect(events).toEqual(['added bob.2', 'removed bob.1']);
  });

  it('refuses a list the pinned key did not sign, and a rolled-back one, keeping what it had', () => {
    const { trust, events } = book();
    trust.present('bob', bob.publicKey, signDeviceList('bob', 1, [one], bob));
    trust.present('bob', bob.publicKey, signDeviceList('bob', 2, [one, two], bob));
    const forged = { ...signDeviceList('bob', 3, [one, two], bob), devices: [one, two, device(3)] };
    expect(codeOf(() => trust.present('bob', bob.publicKey, forged))).toBe('DEVICE_LIST_INVALID');
    expect(codeOf(() => trust.present('bob', bob.publicKey, signDeviceList('bob', 1, [one], bob)))).toBe(
      'DEVICE_LIST_ROLLBACK',
    );
    expect(trust.knownDevices('bob')).toEqual([1, 2]);
    expect(events).toEqual(['added bob.2', 'refused bob DEVICE_LIST_INVALID', 'refused bob DEVICE_LIST_ROLLBACK']);
  });

  it('stops sending on a new account identity until the user accepts it; then the new list counts', () => {
    const { trust, events } = book();
    trust.present('bob', bob.publicKey, signDeviceList('bob', 4, [one], bob));
    const reborn = IdentityKeyPair.generate();
    const fresh = device(1);
    const newList = signDeviceList('bob', 1, [fresh], reborn);
    expect(codeOf(() => trust.present('bob', reborn.publicKey, newList))).toBe('IDENTITY_CHANGED');
    expect(codeOf(() => trust.requireUnchanged('bob'))).toBe('IDENTITY_CHANGED');
    expect(trust.isListed('bob', 1, one.identityKey)).toBe(true); // the old identity still holds until accepted
    expect(events).toEqual(['changed bob']);
    expect(trust.accept('bob')).toEqual([1]);
    expect(trust.requireUnchanged('bob')).toBeUndefined();
    expect(trust.isListed('bob', 1, fresh.identityKey)).toBe(true);
    expect(trust.get('bob')?.verified).toBe(true);
    // A version 1 list is no rollback for the new identity: its own history starts there.
    expect(trust.present('bob', reborn.publicKey, newList).devices).toEqual([1]);
  });

  it('keeps blocking on a profile from before account keys that flagged a changed device key', () => {
    const { trust, contacts } = book();
    contacts.bob = { devices: { '1': 'AAAA' }, verified: false, changed: { '1': 'BBBB' } };
    expect(codeOf(() => trust.requireUnchanged('bob'))).toBe('IDENTITY_CHANGED');
    expect(trust.accept('bob')).toEqual([1]);
    expect(contacts.bob.devices).toEqual({ '1': 'BBBB' });
  });
});
